// Snapshot routes: take one of a sandbox's files, list, delete. Forks use PUT {fromSnapshot}.
import { jsonBody, reply, type ApiRoute } from "../http.js";
import type { SandboxManager } from "../sandboxes/manager.js";
import type { SnapshotStore } from "../store/index.js";

export function snapshotRoutes(manager: SandboxManager, snapshots: SnapshotStore, maxJsonBody: number): ApiRoute[] {
  return [
    {
      method: "POST",
      path: "/v1/sandboxes/:id/snapshots",
      handler: async ({ req, res, params }) => {
        const body = await jsonBody<{ name?: unknown }>(req, maxJsonBody);
        reply(res, 201, await manager.snapshot(params.id!, body.name));
      },
    },
    { method: "GET", path: "/v1/snapshots", handler: ({ res }) => reply(res, 200, { snapshots: snapshots.all() }) },
    {
      method: "DELETE",
      path: "/v1/snapshots/:name",
      handler: ({ res, params }) => {
        manager.deleteSnapshot(params.name!);
        reply(res, 200, { success: true, name: params.name });
      },
    },
  ];
}
