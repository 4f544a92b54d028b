// The `atoll` command: run(argv) dispatches to one command and returns the exit code.
import { parseArgs } from "node:util";
import { VERSION } from "@atoll/protocol";
import { SandboxError } from "@atoll/sdk";
import { UsageError } from "./args.js";
import { clientFrom } from "./connect.js";
import { cp } from "./commands/cp.js";
import { exec } from "./commands/exec.js";
import { expose, ports, unexpose } from "./commands/ports.js";
import { mcp } from "./commands/mcp.js";
import { kill, killAll, logs, ps, start } from "./commands/processes.js";
import { ls, pause, resume, rm, snapshot, snapshots } from "./commands/sandboxes.js";
import { serve } from "./commands/serve.js";
import { template } from "./commands/templates.js";
import type { Command } from "./commands/types.js";
import { processIO, type IO } from "./io.js";

export const COMMANDS: Record<string, Command> = { serve, exec, ls, rm, ps, start, logs, kill, "kill-all": killAll, expose, ports, unexpose, cp, template, snapshot, snapshots, pause, resume, mcp };

const USAGE = "usage: atoll [--url URL] [--api-key KEY] <command> [args]   (atoll --help, atoll <command> --help)";

export function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  atoll ${c.usage.startsWith(name) ? c.usage : name + " " + c.usage}`);
  return [
    `atoll ${VERSION}`,
    "usage: atoll [--url URL] [--api-key KEY] <command> [args]",
    "",
    ...lines,
    "",
    "  atoll --version                      print the version",
    "  atoll <command> --help               the command's usage",
    "",
    "environment: ATOLL_URL (default http://127.0.0.1:8787), ATOLL_API_KEY (default: <ATOLL_DATA_DIR or /var/lib/atoll>/api-key)",
  ].join("\n");
}

/** Global options (before the command): parsed with node:util parseArgs up to the command name. */
function splitGlobal(argv: string[]): { url?: string; apiKey?: string; help: boolean; version: boolean; name?: string; rest: string[] } {
  const { tokens } = parseArgs({
    args: argv,
    options: { url: { type: "string" }, "api-key": { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: ReturnType<typeof splitGlobal> = { help: false, version: false, rest: [] };
  for (const t of tokens) {
    if (t.kind === "positional") return { ...out, name: t.value, rest: argv.slice(t.index + 1) };
    if (t.kind === "option-terminator") throw new UsageError("missing command before --");
    if (t.name === "url" || t.name === "api-key") {
      if (t.value === undefined) throw new UsageError(`option ${t.rawName} needs a value`);
      if (t.name === "url") out.url = t.value;
      else out.apiKey = t.value;
    } else if (t.name === "help") out.help = true;
    else if (t.name === "version") out.version = true;
    else throw new UsageError(`unknown option '${t.rawName}'`);
  }
  return out;
}

/** Runs the CLI; returns the process exit code (2 for usage errors, 1 for failures). */
export async function run(argv: string[], io: IO = processIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let g: ReturnType<typeof splitGlobal>;
  try {
    g = splitGlobal(argv);
  } catch (e) {
    return io.err(`atoll: ${(e as Error).message}\n${USAGE}`), 2;
  }
  if (g.version || g.name === "version") return io.out(`atoll ${VERSION}`), 0;
  const name = g.name;
  if (g.help || !name || name === "help") {
    (g.help || name ? io.out : io.err)(help());
    return g.help || name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) return io.err(`atoll: unknown command ${JSON.stringify(name)}\n\n${help()}`), 2;
  const { rest } = g;
  const dashes = rest.indexOf("--");
  const own = dashes < 0 ? rest : rest.slice(0, dashes);
  if (own.includes("--help") || own.includes("-h")) return io.out(`usage: atoll ${cmd.usage}`), 0;
  let client: ReturnType<typeof clientFrom> | undefined;
  try {
    return await cmd.run(rest, { io, env, client: () => (client ??= clientFrom({ url: g.url, apiKey: g.apiKey }, env)) });
  } catch (e) {
    if (e instanceof UsageError) return io.err(`atoll ${name}: ${e.message}\nusage: atoll ${cmd.usage}`), 2;
    if (e instanceof SandboxError) return io.err(`atoll: ${e.message} [${e.code}]`), 1;
    io.err(`atoll: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}
