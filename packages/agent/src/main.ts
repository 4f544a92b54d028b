// The sandbox agent: an HTTP server on port 3000 inside every sandbox.
import http from "node:http";
import { authFromEnv, type AgentAuth } from "./auth.js";
import { Router } from "./router.js";
import { allRoutes } from "./routes/index.js";
import { adoptStrays } from "./process/jobs.js";

/** `auth` defaults to the environment's settings (auth.ts), which it removes from process.env. */
export function createAgentServer(auth: AgentAuth = authFromEnv()): http.Server {
  if (auth.mode === "off") console.error("[agent] WARNING: ATOLL_AGENT_AUTH=off: requests are not authenticated (development only)");
  if (auth.mode === "unconfigured") console.error("[agent] no agent key configured: every request will be refused");
  const router = new Router(auth).add(allRoutes());
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    void router.handle(req, res);
  });
  server.headersTimeout = 60_000;
  return server;
}

const port = Number(process.env.ATOLL_AGENT_PORT ?? 3000);
const host = process.env.ATOLL_AGENT_HOST ?? "0.0.0.0";
if (process.env.ATOLL_AGENT_NO_LISTEN !== "1") {
  // Bad input must never take the agent down.
  process.on("uncaughtException", (e) => console.error("[agent] uncaught", e));
  process.on("unhandledRejection", (e) => console.error("[agent] unhandled", e));
  adoptStrays(); // the template's startup command: user work, into its job cgroup (process/jobs.ts)
  createAgentServer().listen(port, host, () => console.error(`[agent] listening on ${host}:${port}`));
}
