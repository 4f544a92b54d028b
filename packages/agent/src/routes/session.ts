// Sessions: POST /api/session/create, GET /api/session/list, POST /api/session/delete.
import { AtollError, ErrorCode } from "@atoll/protocol";
import { nowIso, readJson, sendJson, type Route } from "../http.js";
import { checkEnv } from "../session/quote.js";
import { agentState } from "../session/state.js";

/** Starts the default session's shell at agent start-up so the first exec does not pay for it. */
function prewarm(): void {
  if (process.env.ATOLL_AGENT_NO_LISTEN === "1" || process.env.ATOLL_SESSION_PREWARM === "0") return;
  setImmediate(() => {
    try {
      agentState().sessions.get(undefined);
    } catch (e) {
      console.error("[agent] cannot prewarm the default session:", (e as Error).message);
    }
  });
}

export function sessionRoutes(): Route[] {
  prewarm();
  return [
    {
      method: "POST",
      path: "/api/session/create",
      handler: async (req, res) => {
        const body = await readJson(req);
        const id = body.id ?? body.sessionId;
        if (id !== undefined && id !== null && typeof id !== "string") {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot create session: "id" must be a string`, { field: "id" });
        }
        const cwd = body.cwd;
        if (cwd !== undefined && cwd !== null && (typeof cwd !== "string" || cwd.includes("\0") || cwd === "")) {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot create session: "cwd" must be a non-empty path without NUL`, { field: "cwd" });
        }
        const env = checkEnv(body.env, "env") as Record<string, string> | undefined;
        const s = agentState().sessions.create({ id: (id as string | undefined) || undefined, env, cwd: (cwd as string | undefined) || undefined });
        sendJson(res, 200, { success: true, id: s.id, sessionId: s.id, cwd: s.cwd(), message: `Session ${s.id} created`, timestamp: nowIso() });
      },
    },
    {
      method: "GET",
      path: "/api/session/list",
      handler: (_q, res) => {
        const sessions = agentState().sessions.list();
        sendJson(res, 200, { success: true, data: sessions.map((s) => s.id), sessions, timestamp: nowIso() });
      },
    },
    {
      method: "POST",
      path: "/api/session/delete",
      handler: async (req, res) => {
        const body = await readJson(req);
        const id = body.sessionId ?? body.id;
        if (typeof id !== "string" || !id) {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot delete session: "sessionId" must be a non-empty string`, { field: "sessionId" });
        }
        await agentState().sessions.delete(id);
        sendJson(res, 200, { success: true, sessionId: id, timestamp: nowIso() });
      },
    },
  ];
}
