// ANY /v1/sandboxes/:id/api/* → the sandbox agent's /api/*. Streams both ways with backpressure
// (pipe), never buffers, keeps pooled keep-alive connections per sandbox, drops the caller's
// credentials (Authorization, Proxy-Authorization, Cookie) and Origin (the agent refuses requests
// carrying one: they come from browsers), adds the sandbox's agent key, and aborts the upstream
// request when the caller goes away.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { AGENT_KEY_HEADER, AtollError, ErrorCode, assertSandboxId } from "@atoll/protocol";
import type { SandboxRuntime } from "../contracts.js";
import type { SandboxEndpoint } from "../drivers/types.js";
import { replyError, type ApiRoute } from "../http.js";
import { agentHeaders } from "../sandboxes/agent-auth.js";
import { MAX_RECORDED_BODY, RECORDED_PATHS } from "../sandboxes/agent-state.js";

/** Request headers that belong to one hop (or to the caller) and are not passed on. */
const DROP_REQ = new Set(["authorization", "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "origin", "cookie", AGENT_KEY_HEADER]);
const DROP_RES = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

/** Keep-alive connection pools, one http.Agent per sandbox endpoint. */
export class AgentPools {
  private pools = new Map<string, { key: string; agent: http.Agent }>();

  get(id: string, ep: SandboxEndpoint): http.Agent {
    const key = `${ep.host}:${ep.agentPort}`;
    const p = this.pools.get(id);
    if (p && p.key === key) return p.agent;
    p?.agent.destroy();
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 10_000, maxSockets: 256, maxFreeSockets: 32, scheduling: "lifo", timeout: 60_000 });
    this.pools.set(id, { key, agent });
    return agent;
  }

  /** Drops pooled sockets of a sandbox that slept or was destroyed (they would be dead). */
  drop(id: string): void {
    this.pools.get(id)?.agent.destroy();
    this.pools.delete(id);
  }

  close(): void {
    for (const p of this.pools.values()) p.agent.destroy();
    this.pools.clear();
  }
}

function requestHeaders(req: IncomingMessage, ep: SandboxEndpoint): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (DROP_REQ.has(k)) continue;
    const prev = out[k];
    out[k] = prev === undefined ? raw[i + 1]! : Array.isArray(prev) ? [...prev, raw[i + 1]!] : [String(prev), raw[i + 1]!];
  }
  out.host = `${ep.host}:${ep.agentPort}`;
  return agentHeaders(ep, out);
}

function responseHeaders(up: IncomingMessage): string[] {
  const out: string[] = [];
  const raw = up.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!DROP_RES.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Collects a copy of a stream's first `max` bytes as it flows by (the stream itself is not slowed). */
function tap(stream: NodeJS.ReadableStream, max: number): () => Buffer | undefined {
  const parts: Buffer[] = [];
  let size = 0;
  stream.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= max) parts.push(c);
  });
  return () => (size <= max ? Buffer.concat(parts) : undefined);
}

function parseObject(b: Buffer | undefined): Record<string, unknown> | undefined {
  if (!b) return undefined;
  try {
    const v = JSON.parse(b.toString("utf8") || "{}");
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Observer of successful calls whose effect must survive sleep (sessions, env). */
export type RecordCall = (path: string, req: Record<string, unknown>, res: Record<string, unknown>) => void;
/** Recreates a sandbox's recorded sessions after its agent lost them; true when `sessionId` was one. */
export type RestoreSessions = (sessionId: string) => Promise<boolean>;

/** Requests with these methods may be sent twice without harm (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
/** Largest request body kept in memory so a request can be sent again (bigger ones are never retried). */
export const RETRY_BODY_MAX = 64 * 1024;
/** How long a request waits for a restarting agent (entry.sh restarts it within ≈ 0.1–0.3 s). */
export const RETRY_WINDOW_MS = 5_000;

/**
 * Whether a failed attempt may be sent again: only when the agent cannot have acted on it.
 *  - ECONNREFUSED: nothing listens on the agent port (the agent is restarting): the request never
 *    left this process, so any method is safe.
 *  - a *reused* keep-alive socket failing before any response byte (its agent instance died):
 *    - reset by the kernel ("read ECONNRESET", "write EPIPE": err.syscall set): the agent's socket
 *      was gone when the request arrived, or died with the request unread in its receive queue
 *      (Linux answers both with RST), so that agent never read it: safe for any method;
 *    - closed without a reset ("socket hang up": no syscall): the agent may have read the request
 *      and died while running it: only idempotent methods are sent again.
 */
function retriable(err: NodeJS.ErrnoException, method: string, reusedSocket: boolean): boolean {
  if (err.code === "ECONNREFUSED") return true;
  if (!reusedSocket || (err.code !== "ECONNRESET" && err.code !== "EPIPE")) return false;
  return IDEMPOTENT.has(method) || err.syscall === "read" || err.syscall === "write";
}

/** Closes a pool's idle sockets (they belong to an agent instance that is gone); busy ones are left alone. */
function dropIdleSockets(agent: http.Agent): void {
  for (const list of Object.values(agent.freeSockets)) for (const s of list ?? []) s.destroy();
}

/**
 * Pipes one request to the agent and its response back. Resolves when the exchange is over.
 * When the agent restarts under it (entry.sh brings a crashed agent back), a request that cannot
 * have reached it is sent again with back-off for up to RETRY_WINDOW_MS (see `retriable`); its
 * body (≤ RETRY_BODY_MAX) is kept for that while it streams through.
 */
export function forwardToAgent(req: IncomingMessage, res: ServerResponse, ep: SandboxEndpoint, agent: http.Agent, path: string, onDone: () => void, record?: RecordCall, restore?: RestoreSessions): void {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    onDone();
  };
  const method = req.method ?? "GET";
  const headers = requestHeaders(req, ep);
  const pathname = path.split("?", 1)[0]!;
  const reqCopy = record && method === "POST" && RECORDED_PATHS.has(pathname) ? tap(req, MAX_RECORDED_BODY) : undefined;
  const body = tap(req, RETRY_BODY_MAX); // for a retry; undefined once the body outgrew the limit
  const deadline = Date.now() + RETRY_WINDOW_MS;
  let up: http.ClientRequest;
  let attempt = 0;
  let restored = false;

  const send = (replay?: Buffer) => {
    attempt++;
    const cur = http.request({ host: ep.host, port: ep.agentPort, method, path, headers, agent });
    up = cur;
    cur.on("response", (ures) => {
      // A session the agent lost by restarting: recreate the recorded ones, then send it once more
      // (a SESSION_NOT_FOUND answer means the agent did nothing with the request).
      if (ures.statusCode === 404 && restore && !restored && req.readableEnded && body() !== undefined) {
        const b = body()!;
        const parts: Buffer[] = [];
        ures.on("data", (c: Buffer) => parts.push(c));
        ures.on("error", () => res.destroy());
        ures.on("end", () => {
          const raw = Buffer.concat(parts);
          const err = parseObject(raw);
          const ctx = err?.context as Record<string, unknown> | undefined;
          const sid = err?.code === "SESSION_NOT_FOUND" && typeof ctx?.sessionId === "string" ? ctx.sessionId : undefined;
          const passOn = () => {
            if (res.destroyed) return finish();
            res.writeHead(404, ures.statusMessage, responseHeaders(ures));
            res.end(raw);
            finish();
          };
          if (!sid) return passOn();
          restored = true;
          restore(sid).then((ours) => (ours && !res.destroyed ? send(b) : passOn()), passOn);
        });
        return;
      }
      res.writeHead(ures.statusCode ?? 502, ures.statusMessage, responseHeaders(ures));
      // Flush headers at once so streams (SSE) start immediately.
      res.flushHeaders();
      const resCopy = reqCopy && (ures.statusCode ?? 0) < 300 ? tap(ures, MAX_RECORDED_BODY) : undefined;
      ures.pipe(res);
      ures.on("error", () => res.destroy());
      ures.on("end", () => {
        if (resCopy) {
          const q = parseObject(reqCopy!());
          const a = parseObject(resCopy());
          if (q && a) record!(pathname, q, a);
        }
        finish();
      });
    });
    cur.on("error", (err: NodeJS.ErrnoException) => {
      if (cur !== up) return;
      const callerGone = res.headersSent || res.destroyed || done;
      if (err.code === "ECONNREFUSED" || err.code === "ECONNRESET" || err.code === "EPIPE") dropIdleSockets(agent);
      if (!callerGone && Date.now() < deadline && retriable(err, method, cur.reusedSocket)) {
        // The whole body must be at hand to send it again: wait for its end (small bodies only).
        const again = () => {
          const b = body();
          if (b === undefined || done || res.destroyed) return fail(err);
          setTimeout(() => (done || res.destroyed ? undefined : send(b)), Math.min(25 * 2 ** (attempt - 1), 250));
        };
        if (req.readableEnded) return again();
        req.once("end", again);
        req.resume(); // the pipe into the failed attempt is gone; keep reading into the tap
        return;
      }
      fail(err);
    });
    if (replay) cur.end(replay);
    else req.pipe(cur);
  };

  const fail = (err: NodeJS.ErrnoException) => {
    finish();
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    replyError(res, new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot reach the sandbox agent: ${err.code ?? err.message}`, { upstream: `${ep.host}:${ep.agentPort}` }));
  };

  // Caller went away before the response completed: abort the agent-side request too.
  res.on("close", () => {
    if (!res.writableFinished) up.destroy();
    finish();
  });
  req.on("error", () => up.destroy());
  send();
}

export interface ForwardDeps {
  runtime: SandboxRuntime;
  pools: AgentPools;
  /** Told about successful session/env calls (sandboxes/agent-state.ts). */
  record?: (id: string, path: string, req: Record<string, unknown>, res: Record<string, unknown>) => void;
  /** Recreates recorded sessions an agent lost by restarting (sandboxes/agent-state.ts `restore`). */
  restoreSessions?: (id: string, ep: SandboxEndpoint, sessionId: string) => Promise<boolean>;
}

export function forwardRoutes(deps: ForwardDeps): ApiRoute[] {
  const handler: ApiRoute["handler"] = async ({ req, res, params }) => {
    const id = params.id!;
    assertSandboxId(id);
    const ep = await deps.runtime.endpoint(id);
    const release = deps.runtime.hold(id);
    // Keep the caller's exact path encoding and query: strip "/v1/sandboxes/<id>".
    const path = req.url!.replace(/^\/v1\/sandboxes\/[^/?]+/, "");
    const record = deps.record;
    const restore = deps.restoreSessions;
    forwardToAgent(req, res, ep, deps.pools.get(id, ep), path, release, record && ((p, q, a) => record(id, p, q, a)), restore && ((sid) => restore(id, ep, sid)));
  };
  return [{ method: "*", path: "/v1/sandboxes/:id/api/*", handler }];
}
