// Helpers for the preview e2e tests: raw HTTP to the control plane's port with any Host header
// (preview hosts under *.localhost), WebSockets with a message queue, and a sandbox running the
// fixture server (fixtures/preview-server.js under Bun).
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import type { Sandbox } from "@atoll/sdk";

export const FIXTURE = readFileSync(new URL("./fixtures/preview-server.js", import.meta.url), "utf8");

/** Writes the fixture server into the sandbox and starts it on `port`; resolves once it listens. */
export async function startFixture(sb: Sandbox, port: number): Promise<void> {
  await sb.writeFile("/workspace/preview-server.js", FIXTURE);
  const p = await sb.startProcess(`bun run /workspace/preview-server.js`, { env: { PORT: String(port) } });
  await p.waitForLog(`ready on ${port}`, 20_000);
}

export { send, sseArrivals, type Res } from "../../packages/server/test/http-client.js";

export interface Msg {
  data: Buffer;
  binary: boolean;
}
const queues = new WeakMap<WebSocket, { items: Msg[]; waiters: ((m: Msg) => void)[] }>();

/** Opens a WebSocket; messages are queued from the start (a greeting may share the 101's packet). */
export function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const q = { items: [] as Msg[], waiters: [] as ((m: Msg) => void)[] };
    queues.set(ws, q);
    ws.on("message", (data, binary) => {
      const m = { data: data as Buffer, binary };
      const w = q.waiters.shift();
      if (w) w(m);
      else q.items.push(m);
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

export function nextMessage(ws: WebSocket): Promise<Msg> {
  const q = queues.get(ws)!;
  const m = q.items.shift();
  return m ? Promise.resolve(m) : new Promise((resolve) => q.waiters.push(resolve));
}

export function closed(ws: WebSocket): Promise<number> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(1006);
  return new Promise((r) => ws.once("close", (code) => r(code)));
}
