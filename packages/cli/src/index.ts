// The `atoll` command: run(argv) dispatches to one command and returns the exit code.
import { SandboxError } from "@atoll/sdk";
import { UsageError } from "./args.js";
import { clientFrom } from "./connect.js";
import { cp } from "./commands/cp.js";
import { exec } from "./commands/exec.js";
import { expose, ports, unexpose } from "./commands/ports.js";
import { kill, logs, ps, start } from "./commands/processes.js";
import { ls, pause, resume, rm, snapshot, snapshots } from "./commands/sandboxes.js";
import { serve } from "./commands/serve.js";
import { template } from "./commands/templates.js";
import type { Command } from "./commands/types.js";
import { processIO, type IO } from "./io.js";

export const COMMANDS: Record<string, Command> = { serve, exec, ls, rm, ps, start, logs, kill, expose, ports, unexpose, cp, template, snapshot, snapshots, pause, resume };

export function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  atoll ${c.usage.startsWith(name) ? c.usage : name + " " + c.usage}`);
  return [
    "usage: atoll [--url URL] [--api-key KEY] <command> [args]",
    "",
    ...lines,
    "",
    "environment: ATOLL_URL (default http://127.0.0.1:8787), ATOLL_API_KEY (default: <ATOLL_DATA_DIR or /var/lib/atoll>/api-key)",
  ].join("\n");
}

/** Runs the CLI; returns the process exit code (2 for usage errors, 1 for failures). */
export async function run(argv: string[], io: IO = processIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Global options come before the command name.
  let url: string | undefined;
  let apiKey: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--url" || a === "--api-key") {
      const v = argv[++i];
      if (v === undefined) return io.err(`atoll: ${a} needs a value`), 2;
      if (a === "--url") url = v;
      else apiKey = v;
    } else if (a.startsWith("--url=")) url = a.slice(6);
    else if (a.startsWith("--api-key=")) apiKey = a.slice(10);
    else break;
  }
  const name = argv[i];
  if (!name || name === "help" || name === "--help" || name === "-h") {
    (name ? io.out : io.err)(help());
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "version") return io.out("atoll 0.1.0"), 0;
  const cmd = COMMANDS[name];
  if (!cmd) return io.err(`atoll: unknown command ${JSON.stringify(name)}\n\n${help()}`), 2;
  const rest = argv.slice(i + 1);
  if (rest.includes("--help") && !rest.includes("--")) return io.out(`usage: atoll ${cmd.usage}`), 0;
  let client: ReturnType<typeof clientFrom> | undefined;
  try {
    return await cmd.run(rest, { io, env, client: () => (client ??= clientFrom({ url, apiKey }, env)) });
  } catch (e) {
    if (e instanceof UsageError) return io.err(`atoll ${name}: ${e.message}\nusage: atoll ${cmd.usage}`), 2;
    if (e instanceof SandboxError) return io.err(`atoll: ${e.message} [${e.code}]`), 1;
    io.err(`atoll: ${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}
