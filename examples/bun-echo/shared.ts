// Shared by the bun-echo examples: connect to Atoll and start the echo server in a sandbox.
import { readFileSync } from "node:fs";
import { createClient, getSandbox, type Sandbox } from "@atoll/sdk";

export const ECHO_PORT = 8080;

export interface Connection {
  /** Atoll control plane, e.g. http://127.0.0.1:8787 (ATOLL_URL). */
  url: string;
  /** API key (ATOLL_API_KEY). */
  apiKey: string;
}

export function fromEnv(): Connection {
  const url = process.env.ATOLL_URL ?? "http://127.0.0.1:8787";
  const apiKey = process.env.ATOLL_API_KEY;
  if (!apiKey) throw new Error("Cannot connect: set ATOLL_API_KEY (and ATOLL_URL)");
  return { url, apiKey };
}

/** Gets (or creates) the sandbox, copies echo-server.ts in and starts it with `bun run`. */
export async function startEchoServer(conn: Connection, sandboxId: string): Promise<Sandbox> {
  const sandbox = getSandbox(createClient(conn), sandboxId);
  await sandbox.writeFile("/workspace/echo-server.ts", readFileSync(new URL("./echo-server.ts", import.meta.url), "utf8"));
  const proc = await sandbox.startProcess("bun run echo-server.ts", { cwd: "/workspace", env: { PORT: String(ECHO_PORT) } });
  await proc.waitForLog(`listening on ${ECHO_PORT}`, 20_000);
  return sandbox;
}
