// ps, logs [-f], kill, kill-all, start.
import { getSandbox, parseSSEStream, type ProcessLogEvent } from "@atoll/sdk";
import { need, parseArgs, parseEnvPairs, str } from "../args.js";
import { ago, table } from "../io.js";
import type { Command } from "./types.js";

export const ps: Command = {
  usage: "ps <id> [--json]                     list background processes",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { bool: ["json"] });
    const list = await getSandbox(client(), need(p, 0, "sandbox id")).listProcesses();
    if (p.flags.json) return io.out(JSON.stringify(list, null, 2)), 0;
    table(io, ["ID", "PID", "STATUS", "EXIT", "STARTED", "COMMAND"], list.map((x) => [x.id, x.pid, x.status, x.exitCode, ago(x.startTime.toISOString()), x.command]));
    return 0;
  },
};

export const start: Command = {
  usage: "start <id> [--id P] [--cwd D] [--env K=V]... -- <command…>   start a background process",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { string: ["id", "cwd"], multi: ["env"], alias: { e: "env", w: "cwd" } });
    const id = need(p, 0, "sandbox id");
    const words = p.rest ?? p.positionals.slice(1);
    if (!words.length) throw new Error("Cannot start process: missing command (put it after --)");
    const proc = await getSandbox(client(), id).startProcess(words.join(" "), { processId: str(p, "id"), cwd: str(p, "cwd"), env: parseEnvPairs(p.multi.env) });
    io.out(proc.id);
    return 0;
  },
};

export const logs: Command = {
  usage: "logs [-f] <id> <processId>           print (or follow) a process's output",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { bool: ["follow"], alias: { f: "follow" } });
    const sandbox = getSandbox(client(), need(p, 0, "sandbox id"));
    const pid = need(p, 1, "process id");
    if (!p.flags.follow) {
      const l = await sandbox.getProcessLogs(pid);
      io.stdout.write(l.stdout);
      io.stderr.write(l.stderr);
      return 0;
    }
    const ac = new AbortController();
    const onSig = () => ac.abort();
    process.once("SIGINT", onSig);
    try {
      const stream = await sandbox.streamProcessLogs(pid, { signal: ac.signal });
      for await (const ev of parseSSEStream<ProcessLogEvent>(stream, ac.signal)) {
        if (ev.type === "stdout") io.stdout.write(ev.data);
        else if (ev.type === "stderr") io.stderr.write(ev.data);
        else if (ev.type === "truncated") io.err(`atoll: ${ev.data}`);
        else if (ev.type === "exit") return 0;
        else if (ev.type === "error") throw new Error(`Cannot follow process ${pid}: ${ev.error}`);
      }
      return 0;
    } catch (e) {
      if (ac.signal.aborted) return 130;
      throw e;
    } finally {
      process.off("SIGINT", onSig);
    }
  },
};

export const kill: Command = {
  usage: "kill <id> <processId> [--signal S]   signal a process (default SIGTERM)",
  async run(argv, { client }) {
    const p = parseArgs(argv, { string: ["signal"], alias: { s: "signal" } });
    await getSandbox(client(), need(p, 0, "sandbox id")).killProcess(need(p, 1, "process id"), str(p, "signal"));
    return 0;
  },
};

export const killAll: Command = {
  usage: "kill-all <id> [--everything]         kill every process (--everything: all but the agent)",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { bool: ["everything"] });
    const n = await getSandbox(client(), need(p, 0, "sandbox id")).killAllProcesses({ everything: p.flags.everything === true });
    io.out(String(n));
    return 0;
  },
};
