// Atoll: directory transfer as a tar stream (GET to download, PUT to upload and extract).
import { nowIso, sendJson, type Route } from "../http.js";
import { queryPath } from "../files/paths.js";
import { withFs } from "../files/errors.js";
import { receiveArchive, sendArchive } from "../files/archive.js";

export function archiveRoutes(): Route[] {
  return [
    {
      method: "GET", path: "/api/archive", handler: async (_req, res, _p, url) => {
        const p = queryPath(url);
        const gzip = ["1", "true", "gzip"].includes(url.searchParams.get("gzip") ?? url.searchParams.get("compress") ?? "");
        await withFs("archive", p, () => sendArchive(p, gzip, res));
      },
    },
    {
      method: "PUT", path: "/api/archive", handler: async (req, res, _p, url) => {
        const p = queryPath(url);
        const r = await withFs("extract into", p, () => receiveArchive(p, req));
        sendJson(res, 200, { success: true, path: p, bytesReceived: r.bytesReceived, timestamp: nowIso(), skipped: r.skipped, skippedCount: r.skippedCount });
      },
    },
  ];
}
