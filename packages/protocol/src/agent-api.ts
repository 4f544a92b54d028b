// Wire types of the sandbox agent (port 3000): a superset of the Cloudflare container control API.
// Field names follow @cloudflare/sandbox 0.4.x; Atoll additions are marked.

export const AGENT_VERSION = "0.1.0";
export const DEFAULT_SESSION_ID = "default";

export interface SessionRequest {
  sessionId?: string;
}

export interface BaseApiResponse {
  success: boolean;
  timestamp: string;
}

export interface ExecuteRequest extends SessionRequest {
  command: string;
  timeoutMs?: number;
  /** Atoll: honoured (Cloudflare ignores these). */
  env?: Record<string, string>;
  cwd?: string;
  background?: boolean;
}

export interface ExecResult {
  success: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
  command: string;
  duration: number;
  timestamp: string;
  sessionId?: string;
  /** Atoll: true when the command was killed by its timeout. */
  timedOut?: boolean;
}

/** SSE events of /api/execute/stream. */
export type ExecEvent =
  | { type: "start"; timestamp: string; command: string; sessionId?: string; pid?: number }
  | { type: "stdout"; timestamp: string; data: string }
  | { type: "stderr"; timestamp: string; data: string }
  | { type: "complete"; timestamp: string; exitCode: number; result?: ExecResult; timedOut?: boolean }
  | { type: "error"; timestamp: string; error: string; code?: string };
