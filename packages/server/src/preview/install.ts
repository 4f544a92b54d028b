// Wires ports and preview into the control plane (called from app.ts): port store on the shared
// SQLite handle, /v1 ports and proxy routes, the WebSocket upgrade hook for /proxy on node:http,
// and the front door as the listener wrapping the node:http server.
import type { Server as HttpServer } from "node:http";
import type { Server as NetServer, Socket } from "node:net";
import type { IncomingMessage } from "node:http";
import type { SandboxRuntime } from "../contracts.js";
import type { ApiRoute } from "../http.js";
import { portRoutes } from "../api/ports.js";
import { proxyRoutes } from "../api/proxy.js";
import { PortService } from "../ports/service.js";
import { PortStore } from "../ports/store.js";
import type { Db } from "../store/db.js";
import { proxyUpgradeHook } from "./fallback.js";
import { createFrontDoor } from "./front-door.js";
import type { ConnectionAdmission } from "./admission.js";

export interface PreviewInstallOptions {
  db: Db;
  runtime: SandboxRuntime & { on(event: "destroyed", fn: (id: string) => void): unknown };
  apiKey: string;
  domains: readonly string[];
  http: HttpServer;
  routes: ApiRoute[];
  upgradeHooks: ((req: IncomingMessage, socket: Socket, head: Buffer) => boolean)[];
  /** The port actually listened on (for localhost preview URLs). */
  serverPort: () => number;
  maxJsonBody: number;
  shutdownGraceMs?: number;
  /** config.publicProtocol (ATOLL_PUBLIC_PROTOCOL). */
  publicProtocol?: "http" | "https";
  /** config.headTimeoutMs (ATOLL_HEAD_TIMEOUT_MS). */
  headTimeoutMs?: number;
  /** Connection caps of the control plane's port (admission.ts). */
  admission?: ConnectionAdmission;
}

export function installPreview(o: PreviewInstallOptions): { ports: PortService; listener: NetServer } {
  const pub = o.publicProtocol;
  const ports = new PortService({ store: new PortStore(o.db), runtime: o.runtime, serverPort: o.serverPort, publicProtocol: pub ?? "https" });
  o.runtime.on("destroyed", (id) => ports.forgetSandbox(id));
  const deps = { runtime: o.runtime, ports, apiKey: o.apiKey, domains: o.domains };
  o.routes.push(...portRoutes(ports, o.maxJsonBody), ...proxyRoutes(deps));
  o.upgradeHooks.push(proxyUpgradeHook(deps));
  const listener = createFrontDoor({ httpServer: o.http, runtime: o.runtime, ports, apiKey: o.apiKey, domains: o.domains, proto: pub ?? "http", shutdownGraceMs: o.shutdownGraceMs, headTimeoutMs: o.headTimeoutMs, admission: o.admission });
  return { ports, listener };
}
