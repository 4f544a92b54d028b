// POST /api/git/checkout {repoUrl, branch?, targetDir?, depth?, timeoutMs?} → {success, repoUrl, branch, targetDir}.
import { nowIso, readJson, sendJson, type Route } from "../http.js";
import { gitCheckout } from "../git/checkout.js";

export function gitRoutes(): Route[] {
  return [
    {
      method: "POST", path: "/api/git/checkout", handler: async (req, res) => {
        const b = await readJson(req);
        const r = await gitCheckout(b);
        sendJson(res, 200, { success: true, repoUrl: r.repoUrl, branch: r.branch, targetDir: r.targetDir, timestamp: nowIso(), exitCode: 0 });
      },
    },
  ];
}
