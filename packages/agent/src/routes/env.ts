// POST /api/env {sessionId?, envVars} (Atoll): exports variables into a session so later execs and
// background processes started later see them byte-for-byte; null unsets. Cloudflare's
// setEnvVars does the same with `export K='v'` execs, which also works here.
import { AtollError, ErrorCode } from "@atoll/protocol";
import { nowIso, readJson, sendJson, type Route } from "../http.js";
import { checkEnv } from "../session/quote.js";
import { agentState } from "../session/state.js";

export function envRoutes(): Route[] {
  return [
    {
      method: "POST",
      path: "/api/env",
      handler: async (req, res) => {
        const body = await readJson(req);
        const vars = checkEnv(body.envVars ?? body.env, "envVars", true);
        if (!vars) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variables: "envVars" must be an object`, { field: "envVars" });
        const sid = body.sessionId;
        if (sid !== undefined && sid !== null && typeof sid !== "string") {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variables: "sessionId" must be a string`, { field: "sessionId" });
        }
        const session = agentState().sessions.get((sid as string | undefined) || undefined);
        if (Object.keys(vars).length) await session.setEnv(vars);
        sendJson(res, 200, { success: true, sessionId: session.id, count: Object.keys(vars).length, timestamp: nowIso() });
      },
    },
  ];
}
