// Composes the control plane: config → store → driver → manager → /v1 routes → node:http server.
// createApp() builds everything without listening (other modules wrap `http` or add routes and
// upgrade hooks first); startServer() also listens and handles SIGTERM/SIGINT.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Server as NetServer, Socket } from "node:net";
import { AtollError, ErrorCode, RouteTable, errorBody } from "@atoll/protocol";
import { healthRoutes, openApiRoutes, sandboxRoutes, lifecycleRoutes, snapshotRoutes, templateRoutes, forwardRoutes, mcpRoutes, AgentPools } from "./api/index.js";
import { loadApiKey, makeAuthChecker } from "./auth.js";
import { privateDir } from "./private-files.js";
import type { ServerConfig } from "./config.js";
import type { Driver } from "./drivers/types.js";
import { reply, replyError, type ApiRoute } from "./http.js";
import { makeLogger, type Logger } from "./log.js";
import { createDriver } from "./sandboxes/driver.js";
import { SandboxManager } from "./sandboxes/manager.js";
import { openStores, type Stores } from "./store/index.js";
import { TemplateRegistry } from "./templates/registry.js";
import { installPreview } from "./preview/install.js";
import { errorResponse } from "./preview/raw-response.js";
import { ConnectionAdmission, defaultMaxConnections, openFileLimit } from "./preview/admission.js";

/** Handles an HTTP upgrade (WebSocket) when it recognises the request; returns true if it did. */
export type UpgradeHook = (req: IncomingMessage, socket: Socket, head: Buffer) => boolean;

export interface App {
  config: ServerConfig;
  log: Logger;
  apiKey: string;
  /** True when this start generated the API key (it is printed once). */
  apiKeyGenerated: boolean;
  stores: Stores;
  driver: Driver;
  manager: SandboxManager;
  templates: TemplateRegistry;
  /** The /v1 API server. Not listening by itself: `listener` (it, or a front door that hands connections to it) is. */
  http: http.Server;
  /** What listen() binds. Replace it with a wrapping server (the preview front door) before listen(). */
  listener: NetServer;
  routes: ApiRoute[];
  /** Tried in order for every HTTP upgrade reaching `http`; unclaimed upgrades get 404. */
  upgradeHooks: UpgradeHook[];
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface AppOptions {
  /** Inject a driver (tests); default from config.driver. */
  driver?: Driver;
  log?: Logger;
}

export async function createApp(config: ServerConfig, opts: AppOptions = {}): Promise<App> {
  const log = opts.log ?? makeLogger(config.logLevel);
  privateDir(config.dataDir); // 0700, also when an older version made it 0755
  const stores = openStores(config.dataDir);
  const key = loadApiKey(config.dataDir, config.apiKey);
  const driver = opts.driver ?? createDriver(config);
  const templates = new TemplateRegistry({
    db: stores.db,
    dataDir: config.dataDir,
    baseRootfs: config.baseImage,
    sourceDirs: config.templateSourceDirs,
    sandboxesUsing: (name) => stores.sandboxes.all().filter((s) => s.template === name).map((s) => s.id),
  });
  await driver.init();
  const manager = new SandboxManager(config, stores, driver, templates, log);
  await manager.init();
  const pools = new AgentPools();
  manager.on("stopped", (id) => pools.drop(id));

  const routes: ApiRoute[] = [
    ...healthRoutes(),
    ...openApiRoutes(),
    ...sandboxRoutes(manager, config.maxJsonBody),
    ...lifecycleRoutes(manager),
    ...snapshotRoutes(manager, stores.snapshots, config.maxJsonBody),
    ...templateRoutes(templates, config.maxJsonBody),
    ...forwardRoutes({ runtime: manager, pools, record: (id, p, q, a) => manager.agentState.record(id, p, q, a), restoreSessions: (id, ep, sid) => manager.agentState.restore(id, ep, sid) }),
    ...mcpRoutes(key.key),
  ];
  const table = new RouteTable<ApiRoute>();
  let compiled = 0;
  const checkAuth = makeAuthChecker(key.key);

  // In-flight /v1 requests, so shutdown can wait for them (bounded by shutdownGraceMs).
  let inFlight = 0;
  let shuttingDown = false;
  let onDrained: (() => void) | undefined;
  // Connection caps of the port (front door and API alike): slow or idle clients cannot take
  // every fd; at the cap, connections with no request in flight make room (preview/admission.ts).
  const admission = new ConnectionAdmission({ perAddress: config.maxConnectionsPerIp, total: config.maxConnections ?? defaultMaxConnections(openFileLimit()) });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    const sock = req.socket;
    admission.requestStarted(sock);
    res.once("close", () => {
      admission.requestEnded(sock);
      if (--inFlight === 0) onDrained?.();
    });
    // While shutting down, answer but do not keep the connection.
    if (shuttingDown) res.shouldKeepAlive = false;
    // Routes may be added after createApp (other modules); compile lazily.
    if (compiled < routes.length) {
      table.add(routes.slice(compiled).map((r) => ({ method: r.method, path: r.path, handler: r })));
      compiled = routes.length;
    }
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const m = table.match(req.method ?? "GET", pathname);
    try {
      if (m.kind === "match" && m.handler.auth === false) {
        // public route
      } else if (pathname === "/v1" || pathname.startsWith("/v1/")) {
        checkAuth(req);
      }
      if (m.kind === "not-found") throw new AtollError(ErrorCode.NOT_FOUND, `Cannot ${req.method} ${pathname.slice(0, 200)}: no such route`, { path: pathname.slice(0, 200) });
      if (m.kind === "method-not-allowed") throw new AtollError(ErrorCode.METHOD_NOT_ALLOWED, `Cannot ${req.method} ${pathname.slice(0, 200)}: method not allowed`, { method: req.method });
      // URL parsed only by handlers that read it (the forwarder does not).
      let url: URL | undefined;
      const p = m.handler.handler({
        req,
        res,
        params: m.params,
        get url() {
          return (url ??= new URL(rawUrl, "http://localhost"));
        },
      });
      if (p) p.catch((e) => fail(req, res, e));
    } catch (e) {
      fail(req, res, e);
    }
  };
  const fail = (req: IncomingMessage, res: ServerResponse, e: unknown) => {
    if (!(e instanceof AtollError)) log.error(`request ${req.method} ${req.url?.slice(0, 200)} failed: ${(e as Error)?.stack ?? e}`);
    // Unread request body (e.g. rejected before reading): close instead of draining it.
    if (!req.complete) res.setHeader("connection", "close");
    replyError(res, e);
  };

  // headersTimeout: the same head deadline as the front door's, checked every second
  // (connectionsCheckingInterval) for heads after the first on a handed-off connection.
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: config.headTimeoutMs, connectionsCheckingInterval: 1000, noDelay: true }, handle);
  // Our own connection tracking: node:http only tracks connections of a server that listens
  // itself, and `server` gets its connections handed over by `listener`.
  const sockets = new Set<Socket>();
  server.on("connection", (sock: Socket) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
  });
  const upgradeHooks: UpgradeHook[] = [];
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => undefined);
    admission.requestStarted(socket); // a tunnel is busy for as long as it lives
    for (const hook of upgradeHooks) if (hook(req, socket, head)) return;
    const body = JSON.stringify(errorBody(ErrorCode.NOT_FOUND, `Cannot upgrade ${req.url?.slice(0, 200)}: no WebSocket endpoint here`));
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  // Malformed HTTP (bad request line, NUL bytes, oversized headers): a coded 4xx, never a crash.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return socket.destroy();
    const code = err.code === "HPE_HEADER_OVERFLOW" ? ErrorCode.HEADERS_TOO_LARGE : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? ErrorCode.REQUEST_TIMEOUT : ErrorCode.VALIDATION_FAILED;
    socket.end(errorResponse(code, `Cannot parse HTTP request: ${err.code ?? err.message}`));
  });

  let closing: Promise<void> | undefined;
  const app: App = {
    config,
    log,
    apiKey: key.key,
    apiKeyGenerated: key.generated,
    stores,
    driver,
    manager,
    templates,
    http: server,
    listener: server,
    routes,
    upgradeHooks,
    listen() {
      return new Promise((resolve, reject) => {
        app.listener.once("error", reject);
        app.listener.listen(config.port, config.host, () => {
          // node:http starts its connection tracking (headersTimeout/requestTimeout checks,
          // closeIdleConnections) on "listening"; `http` gets its sockets from `listener`.
          if (app.listener !== server) server.emit("listening");
          const a = app.listener.address();
          const port = typeof a === "object" && a ? a.port : config.port;
          resolve(`http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`);
        });
      });
    },
    close() {
      closing ??= (async () => {
        // No more idle sleeps; stop accepting, let in-flight requests finish briefly, then cut the rest.
        shuttingDown = true;
        const managerClosed = manager.close();
        const closed = new Promise<void>((r) => app.listener.close(() => r()));
        if (app.listener !== server) server.close();
        server.closeIdleConnections();
        const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
        if (inFlight > 0) await Promise.race([new Promise<void>((r) => (onDrained = r)), sleep(config.shutdownGraceMs)]);
        server.closeAllConnections();
        for (const sock of sockets) sock.destroy();
        await Promise.race([closed, sleep(500)]);
        pools.close();
        await managerClosed;
        await driver.close().catch((e) => log.error(`Cannot close driver: ${(e as Error).message}`));
        stores.db.close();
      })();
      return closing;
    },
  };
  // Ports, preview URLs and /proxy (preview/install.ts): the front door becomes the listener.
  app.listener = installPreview({
    db: stores.db,
    runtime: manager,
    apiKey: key.key,
    domains: config.previewDomains,
    http: server,
    routes,
    upgradeHooks,
    serverPort: () => {
      const a = app.listener.address();
      return typeof a === "object" && a ? a.port : config.port;
    },
    maxJsonBody: config.maxJsonBody,
    shutdownGraceMs: config.shutdownGraceMs,
    publicProtocol: config.publicProtocol,
    headTimeoutMs: config.headTimeoutMs,
    admission,
  }).listener;
  // Answers 200 to a bare GET / so humans poking the port see what it is.
  routes.push({ method: "GET", path: "/", auth: false, handler: ({ res }) => reply(res, 200, { name: "atoll", api: "/v1" }) });
  return app;
}

/** Builds, listens, prints the API key once when generated, and shuts down on SIGTERM/SIGINT. */
export async function startServer(config: ServerConfig, opts: AppOptions = {}): Promise<App> {
  const app = await createApp(config, opts);
  const url = await app.listen();
  app.log.info(`atoll control plane listening on ${url} (driver ${app.driver.name}, data ${config.dataDir})`);
  if (app.apiKeyGenerated) {
    process.stdout.write(`\nAPI key (stored in ${config.dataDir}/api-key, shown once):\n  ${app.apiKey}\n\n`);
  }
  const stop = (sig: string) => {
    app.log.info(`${sig}: shutting down (sandboxes keep running)`);
    app
      .close()
      .then(() => process.exit(0))
      .catch((e) => {
        app.log.error(`Cannot shut down cleanly: ${(e as Error).message}`);
        process.exit(1);
      });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return app;
}
