// Lifecycle routes: pause (cgroup freeze, memory kept), resume, sleep (stop now, files kept).
import { reply, type ApiRoute } from "../http.js";
import type { SandboxManager } from "../sandboxes/manager.js";

export function lifecycleRoutes(manager: SandboxManager): ApiRoute[] {
  return [
    { method: "POST", path: "/v1/sandboxes/:id/pause", handler: async ({ res, params }) => reply(res, 200, await manager.pause(params.id!)) },
    { method: "POST", path: "/v1/sandboxes/:id/resume", handler: async ({ res, params }) => reply(res, 200, await manager.resume(params.id!)) },
    { method: "POST", path: "/v1/sandboxes/:id/sleep", handler: async ({ res, params }) => reply(res, 200, await manager.sleep(params.id!)) },
  ];
}
