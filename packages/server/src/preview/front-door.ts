// The front door: a raw net.Server on the control plane's port. Preview-host requests and
// /v1/sandboxes/:id/proxy/:port/* requests are proxied by FrontDoorConnection on the raw socket
// (no node:http, no fetch on the data plane); every other connection is handed, bytes intact,
// to the control plane's node:http server. Every accepted socket passes connection admission
// first (admission.ts: per-address and total caps, shedding idle connections at the cap), and a
// request head must arrive within headTimeoutMs (slowloris).
import { createServer, type Server, type Socket } from "node:net";
import type { Server as HttpServer } from "node:http";
import type { SandboxRuntime } from "../contracts.js";
import type { ConnectionAdmission } from "./admission.js";
import { FrontDoorConnection, type ConnectionDeps } from "./connection.js";
import type { Authorizer } from "./route.js";

export interface FrontDoorOptions {
  /** The control plane's HTTP server (not listening itself); gets every non-preview connection. */
  httpServer: HttpServer;
  runtime: SandboxRuntime;
  ports: Authorizer;
  apiKey: string;
  /** Preview domains, e.g. ["localhost", "preview.example.com"] (ATOLL_PREVIEW_DOMAINS). */
  domains: readonly string[];
  /** Value of X-Forwarded-Proto sent to sandboxes (default "http"; "https" behind a TLS terminator). */
  proto?: "http" | "https";
  /** Idle sweep period in ms: idle keep-alive connections close after 1-2 periods (default 60 s; tunnels never). */
  idleTimeoutMs?: number;
  /** On close(): busy preview connections (open responses, WebSockets) get this long (default 5 s). */
  shutdownGraceMs?: number;
  /** A request head must be complete this long after it started (default 15 s; ATOLL_HEAD_TIMEOUT_MS). */
  headTimeoutMs?: number;
  /** Connection caps (admission.ts); none when absent. */
  admission?: ConnectionAdmission;
}

/** How often head deadlines are checked: they hold to within this. */
const HEAD_SWEEP_MS = 1000;

export function createFrontDoor(o: FrontDoorOptions): Server {
  const deps: ConnectionDeps = {
    live: new Set(),
    route: { domains: o.domains, apiKey: o.apiKey, ports: o.ports },
    runtime: o.runtime,
    apiKey: o.apiKey,
    proto: o.proto ?? "http",
    headTimeoutMs: o.headTimeoutMs ?? 15_000,
    handoff: (socket: Socket) => {
      o.admission?.handedOff(socket);
      o.httpServer.emit("connection", socket);
    },
  };
  const admission = o.admission;
  // allowHalfOpen like node:http, so handed-off sockets behave as node:http expects.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (admission && !admission.admit(socket)) return;
    const c = new FrontDoorConnection(socket, deps);
    admission?.watch(socket, () => c.sheddable());
  });
  // Idle keep-alive connections are closed after one to two sweep periods without traffic
  // (tunnels and open responses are never timed out).
  const sweep = setInterval(() => {
    for (const c of deps.live) c.sweepIdle();
  }, o.idleTimeoutMs ?? 60_000);
  sweep.unref();
  // Head deadlines: a head not complete headTimeoutMs after it started gets 408 (connection.ts).
  const headSweep = setInterval(() => {
    const now = Date.now();
    for (const c of deps.live) c.sweepHead(now);
  }, HEAD_SWEEP_MS);
  headSweep.unref();
  server.once("close", () => {
    clearInterval(sweep);
    clearInterval(headSweep);
  });
  // close(): stop accepting (net.Server), close idle preview connections now, cut busy ones later.
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    close(cb);
    for (const c of [...deps.live]) c.shutdown(false);
    setTimeout(() => {
      for (const c of [...deps.live]) c.shutdown(true);
    }, o.shutdownGraceMs ?? 5000).unref();
    return server;
  }) as Server["close"];
  return server;
}
