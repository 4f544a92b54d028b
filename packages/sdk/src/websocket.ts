// WebSockets to a sandbox port through the control plane's /v1/sandboxes/:id/proxy/:port/*.
// wsConnect forwards an incoming upgrade (Workers: fetch passthrough; Deno: upgrade + bridge);
// connectWebSocket opens an outbound socket (Workers fetch-upgrade, the `ws` package in Node,
// or the runtime's WebSocket with headers in Bun/Deno). Node servers: see wsConnectNode in ./node.
import { ErrorCode } from "@atoll/protocol";
import type { SandboxCore } from "./core.js";
import { sdkError } from "./errors.js";

/** The control-plane path that reaches `port` inside the sandbox. */
export function proxyPath(core: SandboxCore, port: number, path = "/"): string {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw sdkError(ErrorCode.INVALID_PORT, `Cannot connect to port ${String(port)}: port must be 1-65535`, { port });
  return `${core.base}/proxy/${port}${path.startsWith("/") ? path : "/" + path}`;
}

export function isWebSocketUpgrade(req: Request): boolean {
  return (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";
}

const g = globalThis as unknown as {
  WebSocketPair?: unknown;
  WebSocket?: new (url: string, opts?: unknown) => WebSocket;
  Deno?: { upgradeWebSocket(req: Request): { socket: WebSocket; response: Response } };
  process?: { versions?: { node?: string; bun?: string } };
};

/** Workers-style runtime: fetch() with "Upgrade: websocket" returns a 101 Response carrying webSocket. */
const isWorkers = () => typeof g.WebSocketPair === "function";

/**
 * Forwards a WebSocket upgrade request to `port` in the sandbox and returns the Response to send
 * back to the client. Supported in Workers-style runtimes and Deno; in Node use wsConnectNode.
 */
export async function wsConnect(core: SandboxCore, request: Request, port: number): Promise<Response> {
  if (!isWebSocketUpgrade(request)) throw sdkError(ErrorCode.VALIDATION_FAILED, "Cannot wsConnect: the request is not a WebSocket upgrade (missing 'Upgrade: websocket')", {});
  const u = new URL(request.url);
  const path = proxyPath(core, port, u.pathname + u.search);
  await core.ensure();
  if (isWorkers()) {
    // Workers' fetch() performs the upgrade and returns the 101 Response carrying the socket.
    const headers: Record<string, string> = {};
    request.headers.forEach((v, k) => {
      if (k !== "host" && k !== "authorization") headers[k] = v;
    });
    return core.client.raw(path, { method: "GET", headers, what: `connect to port ${port}` });
  }
  if (g.Deno?.upgradeWebSocket) {
    const { socket: client, response } = g.Deno.upgradeWebSocket(request);
    const protocols = request.headers.get("sec-websocket-protocol")?.split(",").map((s) => s.trim()).filter(Boolean);
    const upstream = await openSocket(core, path, protocols);
    bridge(client, upstream);
    return response;
  }
  throw sdkError(ErrorCode.VALIDATION_FAILED, "Cannot wsConnect in this runtime: it cannot upgrade a Request; in Node use wsConnectNode from '@atoll/sdk/node', or sandbox.connectWebSocket()", {});
}

/** Pipes messages and closes between two WebSockets (both already created). */
function bridge(a: WebSocket, b: WebSocket): void {
  a.binaryType = "arraybuffer";
  b.binaryType = "arraybuffer";
  const pending: unknown[] = [];
  a.addEventListener("message", (e) => (b.readyState === 1 ? b.send(e.data as string) : pending.push(e.data)));
  b.addEventListener("open", () => pending.splice(0).forEach((d) => b.send(d as string)));
  b.addEventListener("message", (e) => a.readyState === 1 && a.send(e.data as string));
  const closer = (other: WebSocket) => (e: CloseEvent) => {
    if (other.readyState <= 1) other.close(e.code >= 1000 && e.code < 5000 && e.code !== 1005 && e.code !== 1006 ? e.code : 1000, e.reason);
  };
  a.addEventListener("close", closer(b));
  b.addEventListener("close", closer(a));
  a.addEventListener("error", () => b.readyState <= 1 && b.close(1011));
  b.addEventListener("error", () => a.readyState <= 1 && a.close(1011));
}

/** Creates (does not wait for open) an authenticated WebSocket to a control-plane path. */
async function openSocket(core: SandboxCore, path: string, protocols?: string[]): Promise<WebSocket> {
  const wsUrl = core.client.url.replace(/^http/i, "ws") + path;
  const headers = core.client.authHeaders();
  if (isWorkers()) {
    const res = await fetch(core.client.url + path, { headers: { ...headers, upgrade: "websocket", ...(protocols?.length && { "sec-websocket-protocol": protocols.join(", ") }) } });
    const ws = (res as unknown as { webSocket?: WebSocket & { accept(): void } }).webSocket;
    if (!ws) throw sdkError(ErrorCode.SERVICE_NOT_RESPONDING, `Cannot open WebSocket to ${path}: upstream answered HTTP ${res.status}`, { status: res.status });
    ws.accept();
    return ws;
  }
  if (g.process?.versions?.node && !g.process.versions.bun) {
    // Node: the `ws` package (the global WebSocket cannot send an Authorization header).
    const modName = "ws";
    const mod = (await import(modName).catch(() => null)) as { WebSocket?: new (u: string, p: string[] | undefined, o: object) => WebSocket; default?: new (u: string, p: string[] | undefined, o: object) => WebSocket } | null;
    const WS = mod?.WebSocket ?? mod?.default;
    if (!WS) throw sdkError(ErrorCode.VALIDATION_FAILED, "Cannot open WebSocket in Node: install the 'ws' package", {});
    return new WS(wsUrl, protocols, { headers });
  }
  if (!g.WebSocket) throw sdkError(ErrorCode.VALIDATION_FAILED, "Cannot open WebSocket: this runtime has no WebSocket", {});
  // Bun and Deno accept non-standard { headers, protocols } options.
  return new g.WebSocket(wsUrl, { headers, ...(protocols?.length && { protocols }) });
}

/**
 * Opens a WebSocket to `port` (and `path`) inside the sandbox, authenticated with the API key.
 * Resolves once the connection is open; rejects when the upgrade fails.
 */
export async function connectWebSocket(core: SandboxCore, port: number, path = "/", protocols?: string[]): Promise<WebSocket> {
  const p = proxyPath(core, port, path);
  await core.ensure();
  const ws = await openSocket(core, p, protocols);
  if (ws.readyState === 1) return ws;
  return new Promise<WebSocket>((resolve, reject) => {
    const onOpen = () => (cleanup(), resolve(ws));
    const onFail = (e: Event) => {
      cleanup();
      const msg = (e as { message?: string }).message ?? (e as { error?: Error }).error?.message ?? "connection failed";
      reject(sdkError(ErrorCode.SERVICE_NOT_RESPONDING, `Cannot open WebSocket to port ${port}${path}: ${msg}`, { port, path }));
    };
    const cleanup = () => {
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("error", onFail);
      ws.removeEventListener("close", onFail);
    };
    ws.addEventListener("open", onOpen);
    ws.addEventListener("error", onFail);
    ws.addEventListener("close", onFail);
  });
}
