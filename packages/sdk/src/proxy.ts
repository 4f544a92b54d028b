// proxyToSandbox: put in front of your own fetch handler; it answers preview-host requests
// ({port}-{id}-{token}.{domain}) by forwarding them to the control plane, and returns null otherwise.
import { API_PREFIX, ErrorCode, PREVIEW_TOKEN_HEADER, errorBody, hostWithoutPort, parsePreviewHost } from "@atoll/protocol";
import type { AtollClient } from "./client.js";
import { SandboxError } from "./errors.js";
import { isWebSocketUpgrade } from "./websocket.js";

// Per-hop headers that must not be forwarded (RFC 9110 §7.6.1); upgrade headers are kept for WebSockets.
const HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "host", "content-length"];

/** The preview domains to try for `host`: the client's list, or "everything after the first label". */
function domainsFor(client: AtollClient, host: string): string[] {
  if (client.previewDomains?.length) return client.previewDomains;
  const h = hostWithoutPort(host);
  const dot = h.indexOf(".");
  return dot > 0 ? [h.slice(dot + 1)] : [];
}

export async function proxyToSandbox(request: Request, client: AtollClient): Promise<Response | null> {
  const url = new URL(request.url);
  let host = request.headers.get("host") ?? url.host;
  let target = parsePreviewHost(host, domainsFor(client, host));
  // A front end that rewrites Host (Miniflare, some local proxies) keeps the client's name in the URL.
  if (!target && url.host !== host) target = parsePreviewHost((host = url.host), domainsFor(client, host));
  if (!target) return null;
  const path = `${API_PREFIX}/sandboxes/${target.sandboxId}/proxy/${target.port}${url.pathname}${url.search}`;
  const ws = isWebSocketUpgrade(request);
  if (ws && typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair !== "function") {
    // Only Workers-style fetch can carry an upgrade; elsewhere say what to use instead.
    const msg = "Cannot proxy a WebSocket upgrade with fetch in this runtime: use wsConnectNode from '@atoll/sdk/node' (Node) or point clients at the preview router";
    return new Response(JSON.stringify(errorBody(ErrorCode.VALIDATION_FAILED, msg, { port: target.port })), { status: 400, headers: { "content-type": "application/json" } });
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => {
    if (!HOP.includes(k) && k !== "authorization" && !(ws ? false : k === "upgrade")) headers[k] = v;
  });
  headers[PREVIEW_TOKEN_HEADER] = target.token;
  headers["x-forwarded-host"] = host;
  headers["x-forwarded-proto"] = url.protocol.replace(":", "");
  if (ws) headers["connection"] = "Upgrade";
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  try {
    const res = await client.raw(path, { method: request.method, headers, body: hasBody ? request.body : undefined, signal: request.signal, what: `proxy to port ${target.port} of ${target.sandboxId}` });
    if (ws || !res.headers.has("content-encoding") || typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair === "function") return res;
    // fetch() already decoded the body; drop the encoding headers so the client does not decode twice.
    const h = new Headers(res.headers);
    h.delete("content-encoding");
    h.delete("content-length");
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
  } catch (e) {
    if (!(e instanceof SandboxError)) throw e;
    return new Response(JSON.stringify(errorBody(e.code, e.message, e.context)), { status: e.httpStatus, headers: { "content-type": "application/json" } });
  }
}
