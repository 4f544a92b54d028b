// The front door: a raw net.Server on the control plane's port. Preview-host requests and
// /v1/sandboxes/:id/proxy/:port/* requests are proxied by FrontDoorConnection on the raw socket
// (no node:http, no fetch on the data plane); every other connection is handed, bytes intact,
// to the control plane's node:http server.
import { createServer, type Server, type Socket } from "node:net";
import type { Server as HttpServer } from "node:http";
import type { SandboxRuntime } from "../contracts.js";
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
}

export function createFrontDoor(o: FrontDoorOptions): Server {
  const deps: ConnectionDeps = {
    live: new Set(),
    route: { domains: o.domains, apiKey: o.apiKey, ports: o.ports },
    runtime: o.runtime,
    apiKey: o.apiKey,
    proto: o.proto ?? "http",
    handoff: (socket: Socket) => {
      o.httpServer.emit("connection", socket);
    },
  };
  // allowHalfOpen like node:http, so handed-off sockets behave as node:http expects.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    new FrontDoorConnection(socket, deps);
  });
  // Idle keep-alive connections are closed after one to two sweep periods without traffic
  // (tunnels and open responses are never timed out).
  const sweep = setInterval(() => {
    for (const c of deps.live) c.sweepIdle();
  }, o.idleTimeoutMs ?? 60_000);
  sweep.unref();
  server.once("close", () => clearInterval(sweep));
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
