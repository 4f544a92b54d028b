// Sandbox registry routes: list, get-or-create (PUT), get, update (PATCH), destroy.
import type { CreateSandboxRequest, UpdateSandboxRequest } from "@atoll/protocol";
import { jsonBody, reply, type ApiRoute } from "../http.js";
import type { SandboxManager } from "../sandboxes/manager.js";

export function sandboxRoutes(manager: SandboxManager, maxJsonBody: number): ApiRoute[] {
  return [
    { method: "GET", path: "/v1/sandboxes", handler: ({ res }) => reply(res, 200, { sandboxes: manager.list() }) },
    {
      method: "PUT",
      path: "/v1/sandboxes/:id",
      handler: async ({ req, res, params }) => {
        const body = await jsonBody<CreateSandboxRequest>(req, maxJsonBody);
        const info = await manager.getOrCreate(params.id!, body);
        reply(res, info.created ? 201 : 200, info);
      },
    },
    { method: "GET", path: "/v1/sandboxes/:id", handler: ({ res, params }) => reply(res, 200, manager.get(params.id!)) },
    {
      method: "PATCH",
      path: "/v1/sandboxes/:id",
      handler: async ({ req, res, params }) => reply(res, 200, await manager.update(params.id!, await jsonBody<UpdateSandboxRequest>(req, maxJsonBody))),
    },
    {
      method: "DELETE",
      path: "/v1/sandboxes/:id",
      handler: async ({ res, params }) => {
        await manager.destroy(params.id!);
        reply(res, 200, { success: true, id: params.id });
      },
    },
  ];
}
