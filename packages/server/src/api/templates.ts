// Template routes over the template registry (../templates/registry.ts): register, list, delete.
import { jsonBody, reply, type ApiRoute } from "../http.js";
import type { TemplateRegistry } from "../templates/registry.js";

export function templateRoutes(templates: TemplateRegistry, maxJsonBody: number): ApiRoute[] {
  return [
    { method: "POST", path: "/v1/templates", handler: async ({ req, res }) => reply(res, 201, await templates.create(await jsonBody(req, maxJsonBody))) },
    { method: "GET", path: "/v1/templates", handler: ({ res }) => reply(res, 200, { templates: templates.list() }) },
    {
      method: "DELETE",
      path: "/v1/templates/:name",
      handler: async ({ res, params }) => {
        await templates.remove(params.name!);
        reply(res, 200, { success: true, name: params.name });
      },
    },
  ];
}
