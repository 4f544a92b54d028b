// The /v1/sandboxes/:id/proxy/:port/* route on the control plane's node:http server. The front
// door normally serves this route on its raw-socket data plane; requests land here only on a
// connection that was already handed to node:http (e.g. an SDK keep-alive connection that made
// an API call first). Same routing, authorization and header rules; slower plumbing.
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { AtollError, ErrorCode } from "@atoll/protocol";
import type { SandboxRuntime } from "../contracts.js";
import { replyError } from "../http.js";
import type { RequestHead } from "./head.js";
import { errorResponse } from "./raw-response.js";
import { keepHeader, rewriteHead } from "./rewrite.js";
import { routeRequest, type Authorizer } from "./route.js";

export interface FallbackDeps {
  runtime: SandboxRuntime;
  ports: Authorizer;
  apiKey: string;
  domains: readonly string[];
}

const HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

function headOf(req: IncomingMessage): RequestHead {
  const names: string[] = [];
  const lower: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    names.push(req.rawHeaders[i]!);
    lower.push(req.rawHeaders[i]!.toLowerCase());
    values.push(req.rawHeaders[i + 1]!);
  }
  return {
    method: req.method ?? "GET",
    target: req.url ?? "/",
    minor: req.httpVersionMinor === 0 ? 0 : 1,
    names,
    lower,
    values,
    host: req.headers.host,
    contentLength: -1,
    chunked: false,
    upgrade: false,
    headBytes: 0,
  };
}

const ipOf = (s: Socket): string => {
  const ip = s.remoteAddress ?? "";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
};

async function resolve(deps: FallbackDeps, h: RequestHead) {
  const r = routeRequest(h, { domains: [], apiKey: deps.apiKey, ports: deps.ports });
  if (r.kind === "error") throw new AtollError(r.code, r.message, r.context);
  if (r.kind !== "forward") throw new AtollError(ErrorCode.NOT_FOUND, "Cannot proxy: not a /v1/sandboxes/:id/proxy/:port path");
  const ep = await deps.runtime.endpoint(r.sandboxId);
  return { r, host: ep.host };
}

/** HTTP handler for ANY /v1/sandboxes/:id/proxy/:port/* on node:http (streams both ways). */
export function proxyHttpHandler(deps: FallbackDeps) {
  return async ({ req, res }: { req: IncomingMessage; res: ServerResponse }): Promise<void> => {
    const h = headOf(req);
    const { r, host } = await resolve(deps, h);
    const headers: Record<string, string | string[]> = {};
    const add = (k: string, v: string) => {
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    };
    for (let i = 0; i < h.names.length; i++) {
      const name = h.lower[i]!;
      if (HOP.has(name) || !keepHeader(name, h.values[i]!, deps.apiKey)) continue;
      add(name, h.values[i]!);
    }
    const ip = ipOf(req.socket);
    headers.host = `localhost:${r.port}`;
    headers["x-forwarded-for"] = r.forwardedFor ? `${r.forwardedFor}, ${ip}` : ip;
    headers["x-forwarded-host"] = r.publicHost;
    headers["x-forwarded-proto"] = r.proto ?? "http";
    const release = deps.runtime.hold(r.sandboxId);
    deps.runtime.touch(r.sandboxId);
    await new Promise<void>((done) => {
      const up = httpRequest({ host, port: r.port, method: h.method, path: r.target, headers, agent: false }, (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.statusMessage, stripHop(ures.rawHeaders));
        ures.pipe(res);
        ures.on("end", done);
        ures.on("error", () => (res.destroy(), done()));
      });
      up.on("error", (e) => {
        if (!res.headersSent) replyError(res, new AtollError(ErrorCode.SERVICE_NOT_RESPONDING, `Cannot reach port ${r.port} in sandbox ${r.sandboxId}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { port: r.port }));
        else res.destroy();
        done();
      });
      res.on("close", () => {
        up.destroy();
        done();
      });
      req.pipe(up);
    }).finally(() => {
      release();
      deps.runtime.touch(r.sandboxId);
    });
  };
}

function stripHop(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (HOP.has(raw[i]!.toLowerCase())) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

const PROXY_PREFIX_RE = /^\/v1\/sandboxes\/[^/?]+\/proxy\//;

/** Upgrade hook for WebSockets to /v1/sandboxes/:id/proxy/:port/* on node:http. */
export function proxyUpgradeHook(deps: FallbackDeps) {
  return (req: IncomingMessage, socket: Socket, head: Buffer): boolean => {
    if (!PROXY_PREFIX_RE.test(req.url ?? "")) return false;
    const h = headOf(req);
    resolve(deps, h).then(
      ({ r, host }) => {
        const up = connect({ host, port: r.port });
        const release = deps.runtime.hold(r.sandboxId);
        let released = false;
        const done = () => {
          if (released) return;
          released = true;
          release();
          deps.runtime.touch(r.sandboxId);
          socket.destroy();
          up.destroy();
        };
        let connected = false;
        up.once("connect", () => {
          connected = true;
          up.setNoDelay(true);
          up.write(rewriteHead(h, { target: r.target, port: r.port, clientIp: ipOf(socket), forwardedFor: r.forwardedFor, publicHost: r.publicHost, proto: r.proto ?? "http", apiKey: deps.apiKey }));
          if (head.length) up.write(head);
          socket.pipe(up);
          up.pipe(socket);
        });
        up.on("error", () => {
          if (!connected) socket.end(errorResponse(ErrorCode.SERVICE_NOT_RESPONDING, `Cannot reach port ${r.port} in sandbox ${r.sandboxId}: nothing is listening`, { port: r.port }));
          done();
        });
        up.on("close", done);
        socket.on("close", done);
        socket.on("error", done);
      },
      (e: unknown) => {
        const ae = e instanceof AtollError ? e : new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot proxy: ${(e as Error)?.message ?? String(e)}`);
        socket.end(errorResponse(ae.code, ae.message, ae.context));
      },
    );
    return true;
  };
}
