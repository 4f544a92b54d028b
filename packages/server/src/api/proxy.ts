// ANY /v1/sandboxes/:id/proxy/:port/* on the control plane's node:http server (see
// preview/fallback.ts: the front door serves this route itself on fresh connections).
import type { ApiRoute } from "../http.js";
import { proxyHttpHandler, type FallbackDeps } from "../preview/fallback.js";

export function proxyRoutes(deps: FallbackDeps): ApiRoute[] {
  return [{ method: "*", path: "/v1/sandboxes/:id/proxy/:port/*", handler: proxyHttpHandler(deps) }];
}
