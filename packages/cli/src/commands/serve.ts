// atoll serve: runs the control plane in this process (configuration: ATOLL_* env; flags override).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, str } from "../args.js";
import type { Command } from "./types.js";

/** The built agent beside the bundled CLI (dist/agent/), bind-mounted into sandboxes; from source: none (the server's default). */
function bundledAgentDir(): string | undefined {
  const dir = fileURLToPath(new URL("./agent/", import.meta.url));
  return existsSync(dir + "agent.mjs") ? dir : undefined;
}

export const serve: Command = {
  usage: "serve [--host H] [--port N] [--data-dir D]   run the control plane (see docs/control-plane.md)",
  async run(argv, { env }) {
    const p = parseArgs(argv, { string: ["host", "port", "data-dir"] });
    if (str(p, "host")) env.ATOLL_HOST = str(p, "host");
    if (str(p, "port")) env.ATOLL_PORT = str(p, "port");
    if (str(p, "data-dir")) env.ATOLL_DATA_DIR = str(p, "data-dir");
    // (Only when there is one: assigning undefined to process.env stores the string "undefined".)
    const agentDir = env.ATOLL_AGENT_DIR || bundledAgentDir();
    if (agentDir) env.ATOLL_AGENT_DIR = agentDir;
    // Imported lazily so the other commands do not load the server.
    const server = await import("@atoll/server");
    server.serveProcess({ config: server.configFromEnv(env), stdinLifeline: env.ATOLL_STDIN_LIFELINE === "1" });
    return new Promise<number>(() => {}); // runs until a signal stops the process
  },
};
