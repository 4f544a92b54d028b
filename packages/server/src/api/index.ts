// The /v1 API: composes the route lists of every module. Other modules (ports, proxy) add
// their lists in app.ts next to these.
import { API_PREFIX, VERSION } from "@atoll/protocol";
import { reply, type ApiRoute } from "../http.js";

export function healthRoutes(): ApiRoute[] {
  return [{ method: "GET", path: `${API_PREFIX}/health`, auth: false, handler: ({ res }) => reply(res, 200, { ok: true, version: VERSION }) }];
}

export { openApiRoutes } from "./openapi.js";
export { sandboxRoutes } from "./sandboxes.js";
export { lifecycleRoutes } from "./lifecycle.js";
export { snapshotRoutes } from "./snapshots.js";
export { templateRoutes } from "./templates.js";
export { forwardRoutes, AgentPools } from "./forward.js";
export { mcpRoutes } from "./mcp.js";
