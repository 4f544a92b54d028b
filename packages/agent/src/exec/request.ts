// Validation of exec/process request bodies.
import { AtollError, ErrorCode } from "@atoll/protocol";
import { checkEnv } from "../session/quote.js";

export interface ExecParams {
  command: string;
  sessionId?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

/** Largest accepted timeout: one day. */
const MAX_TIMEOUT_MS = 86_400_000;

export function parseExecParams(body: Record<string, unknown>): ExecParams {
  const command = body.command;
  if (typeof command !== "string" || command.trim().length === 0) {
    throw new AtollError(ErrorCode.INVALID_COMMAND, `Cannot run command: "command" must be a non-empty string`, { field: "command" });
  }
  if (command.includes("\0")) throw new AtollError(ErrorCode.INVALID_COMMAND, "Cannot run command: it contains a NUL byte", { field: "command" });
  const sessionId = body.sessionId;
  if (sessionId !== undefined && sessionId !== null && typeof sessionId !== "string") {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot run command: "sessionId" must be a string`, { field: "sessionId" });
  }
  let timeoutMs: number | undefined;
  const t = body.timeoutMs ?? body.timeout;
  if (t !== undefined && t !== null) {
    if (typeof t !== "number" || !Number.isFinite(t) || t <= 0 || t > MAX_TIMEOUT_MS) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot run command: "timeoutMs" must be a positive number of milliseconds up to ${MAX_TIMEOUT_MS}`, { field: "timeoutMs" });
    }
    timeoutMs = t;
  }
  const env = checkEnv(body.env, "env") as Record<string, string> | undefined;
  const cwd = body.cwd;
  if (cwd !== undefined && cwd !== null && (typeof cwd !== "string" || cwd.length === 0 || cwd.includes("\0"))) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot run command: "cwd" must be a non-empty path without NUL`, { field: "cwd" });
  }
  return {
    command,
    sessionId: (sessionId as string | undefined) || undefined,
    timeoutMs,
    env: env && Object.keys(env).length ? env : undefined,
    cwd: (cwd as string | undefined) || undefined,
  };
}
