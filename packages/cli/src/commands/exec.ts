// atoll exec <id> [options] -- <command…>: streams output, exits with the command's exit code.
import { getSandbox } from "@atoll/sdk";
import { UsageError, need, num, parseArgs, parseEnvPairs, str } from "../args.js";
import type { Command } from "./types.js";

export const exec: Command = {
  usage: "exec <id> [--cwd D] [--env K=V]... [--timeout MS] [--session S] -- <command…>",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { string: ["cwd", "timeout", "session"], multi: ["env"], alias: { e: "env", w: "cwd" } });
    const id = need(p, 0, "sandbox id");
    // ssh-style: words after "--" (or after the id) are joined with spaces and run by the shell.
    const words = p.rest ?? p.positionals.slice(1);
    if (!words.length) throw new UsageError("missing command (put it after --)");
    const command = words.join(" ");
    const sandbox = getSandbox(client(), id);
    const session = str(p, "session");
    const target = session ? await sandbox.getSession(session) : sandbox;
    const ac = new AbortController();
    const onSig = () => ac.abort(new Error("interrupted"));
    process.once("SIGINT", onSig);
    process.once("SIGTERM", onSig);
    try {
      const r = await target.exec(command, {
        stream: true,
        onOutput: (s, data) => (s === "stdout" ? io.stdout : io.stderr).write(data),
        env: parseEnvPairs(p.multi.env),
        cwd: str(p, "cwd"),
        timeout: num(p, "timeout"),
        signal: ac.signal,
      });
      if (r.timedOut) io.err(`atoll: command timed out after ${num(p, "timeout")} ms`);
      return r.exitCode;
    } catch (e) {
      if (ac.signal.aborted) return 130;
      throw e;
    } finally {
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
    }
  },
};
