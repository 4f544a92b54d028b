// @atoll/sdk/node — Node-only helpers: forward a Node http server's WebSocket upgrade to a
// sandbox port (raw socket pipe, no per-message work), and copy files/directories in and out.
import type { IncomingMessage } from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import type { Sandbox } from "./sandbox.js";
import { proxyPath } from "./websocket.js";

export * from "./node-fs.js";

// Request headers the control plane must not see from the browser (it gets ours instead).
const SKIP = new Set(["host", "authorization", "content-length", "transfer-encoding"]);

/**
 * Use in `server.on("upgrade", (req, socket, head) => wsConnectNode(sandbox, 8080, req, socket, head))`.
 * Opens a connection to the control plane's proxy route for `port`, replays the upgrade request
 * (with the API key), and then pipes bytes both ways: the 101 answer and all frames pass through.
 * Resolves once the upstream connection is established; failures answer the client with 502.
 */
export async function wsConnectNode(sandbox: Sandbox, port: number, req: IncomingMessage, socket: Duplex, head: Buffer = Buffer.alloc(0)): Promise<void> {
  const path = proxyPath(sandbox.core, port, req.url ?? "/");
  try {
    await sandbox.ready();
  } catch (e) {
    fail(socket, 502, (e as Error).message);
    throw e;
  }
  const base = new URL(sandbox.client.url);
  const secure = base.protocol === "https:";
  const upstreamPort = Number(base.port || (secure ? 443 : 80));
  const host = base.hostname.replace(/^\[|\]$/g, "");
  let lines = `${req.method ?? "GET"} ${path} HTTP/1.1\r\nHost: ${base.host}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) if (!SKIP.has(raw[i]!.toLowerCase())) lines += `${raw[i]}: ${raw[i + 1]!.replace(/[\r\n]/g, "")}\r\n`;
  for (const [k, v] of Object.entries(sandbox.client.authHeaders())) lines += `${k}: ${v}\r\n`;
  lines += "\r\n";
  await new Promise<void>((resolve, reject) => {
    const upstream = secure ? tls.connect({ host, port: upstreamPort, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port: upstreamPort });
    upstream.setNoDelay(true);
    const onConnectError = (e: Error) => {
      fail(socket, 502, `Cannot reach Atoll at ${sandbox.client.url}: ${e.message}`);
      reject(e);
    };
    upstream.once("error", onConnectError);
    upstream.once(secure ? "secureConnect" : "connect", () => {
      upstream.off("error", onConnectError);
      upstream.write(lines);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      const close = () => {
        upstream.destroy();
        socket.destroy();
      };
      upstream.on("error", close);
      socket.on("error", close);
      upstream.on("close", close);
      socket.on("close", close);
      resolve();
    });
  });
}

function fail(socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ code: "SERVICE_NOT_RESPONDING", message, context: {}, httpStatus: status });
  socket.end(`HTTP/1.1 ${status} Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
