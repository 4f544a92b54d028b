// Atoll: POST /api/watch {path, recursive?, includeHidden?} → SSE stream of file changes.
import { readJson, type Route } from "../http.js";
import { resolvePath } from "../files/paths.js";
import { withFs } from "../files/errors.js";
import { serveWatch } from "../watch/session.js";

export function watchRoutes(): Route[] {
  return [
    {
      method: "POST", path: "/api/watch", handler: async (req, res) => {
        const b = await readJson(req);
        const p = resolvePath(b.path);
        // recursive defaults to true: watching a project tree is the common case.
        await withFs("watch", p, () => serveWatch(p, b.recursive !== false, b.includeHidden === true, req, res));
      },
    },
  ];
}
