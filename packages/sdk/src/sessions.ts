// Sessions: /api/session/create and /api/session/delete.
import { ErrorCode } from "@atoll/protocol";
import type { SandboxCore } from "./core.js";
import { sdkError } from "./errors.js";
import { ExecutionSession } from "./session-api.js";

export interface SessionOptions {
  /** Session id (generated when absent). */
  id?: string;
  name?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Accepted for compatibility; every Atoll sandbox is already isolated. */
  isolation?: boolean;
}

export interface SessionDeleteResult {
  success: boolean;
  sessionId: string;
  timestamp: string;
}

export async function createSession(core: SandboxCore, options: SessionOptions = {}): Promise<ExecutionSession> {
  const body = { ...(options.id && { id: options.id }), ...(options.name && { name: options.name }), ...(options.env && { env: options.env }), ...(options.cwd && { cwd: options.cwd }) };
  const r = await core.apiJson<{ id?: string; sessionId?: string }>("/session/create", { method: "POST", body, what: "create session" });
  const id = r.sessionId ?? r.id ?? options.id;
  if (!id) throw sdkError(ErrorCode.INVALID_JSON_RESPONSE, "Cannot create session: the agent did not return a session id", {});
  return new ExecutionSession({ core, sessionId: id });
}

/** A handle for an existing session (not checked; calls fail with SESSION_NOT_FOUND if it is gone). */
export function getSession(core: SandboxCore, sessionId: string): ExecutionSession {
  return new ExecutionSession({ core, sessionId });
}

export async function deleteSession(core: SandboxCore, sessionId: string): Promise<SessionDeleteResult> {
  const r = await core.apiJson<Partial<SessionDeleteResult>>("/session/delete", { method: "POST", body: { sessionId }, what: `delete session ${sessionId}` });
  return { success: r.success ?? true, sessionId: r.sessionId ?? sessionId, timestamp: r.timestamp ?? new Date().toISOString() };
}
