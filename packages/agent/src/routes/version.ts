import { AGENT_VERSION } from "@atoll/protocol";
import { nowIso, sendJson, type Route } from "../http.js";

export function versionRoutes(): Route[] {
  return [
    { method: "GET", path: "/api/version", handler: (_q, res) => sendJson(res, 200, { success: true, version: AGENT_VERSION, timestamp: nowIso() }) },
    { method: "GET", path: "/api/ping", handler: (_q, res) => sendJson(res, 200, { success: true, message: "pong", timestamp: nowIso() }) },
  ];
}
