// Wire types of the sandbox agent (port 3000): a superset of the Cloudflare container control API.
// Field names follow @cloudflare/sandbox 0.4.x; Atoll additions are marked.

export const AGENT_VERSION = "0.1.0";
export const DEFAULT_SESSION_ID = "default";

/**
 * Atoll: the per-sandbox secret the control plane sends on every agent request. The agent only
 * ever holds its SHA-256 (hex), handed over in AGENT_KEY_VERIFIER_ENV, so nothing inside the
 * sandbox stores the secret itself (docs/security.md, "Agent access").
 */
export const AGENT_KEY_HEADER = "x-atoll-agent-key";
export const AGENT_KEY_VERIFIER_ENV = "ATOLL_AGENT_KEY_SHA256";

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

// ---- sessions, background processes, env, ports (owner: agent shells/exec/process) ----

/** POST /api/session/create. `id` is generated when absent. */
export interface SessionCreateRequest {
  id?: string;
  name?: string;
  env?: Record<string, string>;
  cwd?: string;
}

export interface SessionInfo {
  id: string;
  /** Current working directory of the session's shell (live, from /proc). */
  cwd: string;
  createdAt: string;
  /** True while a command runs in the session. */
  busy: boolean;
  /** How many times the shell was restarted (after `exit`, a timeout or an abort). */
  restarts: number;
}

export type ProcessStatus = "starting" | "running" | "completed" | "failed" | "killed" | "error";

/** POST /api/process/start (and /api/execute with background: true). */
export interface StartProcessRequest {
  command: string;
  processId?: string;
  sessionId?: string;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  /** Accepted for compatibility; output is always decoded as UTF-8. */
  encoding?: string;
  /** Accepted for compatibility; finished records are kept until cleanup or eviction. */
  autoCleanup?: boolean;
}

export interface ProcessInfo {
  id: string;
  pid?: number;
  command: string;
  status: ProcessStatus;
  startTime: string;
  endTime?: string;
  exitCode?: number;
  sessionId?: string;
  /** Atoll: the signal that ended it, when one did. */
  signal?: string;
  /** Atoll: true when its timeoutMs ended it. */
  timedOut?: boolean;
}

/** GET /api/process/:id/logs. Logs are a bounded ring per stream; dropped bytes are reported. */
export interface ProcessLogsResult {
  success: boolean;
  processId: string;
  stdout: string;
  stderr: string;
  timestamp: string;
  /** Atoll: true when the ring buffer dropped older output. */
  truncated: boolean;
  droppedBytes: { stdout: number; stderr: number };
}

/**
 * DELETE or POST /api/process/kill-all. Without `everything`: every running process plus every
 * leftover of finished commands and processes (sessions' shells, running commands, interpreters and
 * the startup command are spared). With `everything: true` (Atoll): everything in the sandbox except
 * the agent: those too (sessions and code contexts stay; their next command gets a fresh shell or
 * executor). `signal` (default SIGTERM, names or numbers) is sent first to running processes;
 * `everything` kills at once with SIGKILL.
 */
export interface KillAllRequest {
  signal?: string | number;
  everything?: boolean;
}

/** Answer of kill-all: `cleanedCount` = processes that were still running (Cloudflare's meaning). */
export interface KillAllResult {
  success: true;
  cleanedCount: number;
  /** Distinct pids killed (everything: true). */
  killedPids?: number;
  timestamp: string;
}

/** SSE events of GET /api/process/:id/stream. */
export type ProcessLogEvent =
  | { type: "process_info"; timestamp: string; processId: string; command: string; status: ProcessStatus; pid?: number }
  | { type: "stdout" | "stderr"; timestamp: string; processId: string; data: string }
  /** Atoll: output was dropped (ring buffer overflow before replay, or a slow reader). */
  | { type: "truncated"; timestamp: string; processId: string; stream?: "stdout" | "stderr"; droppedBytes: number; data: string }
  | { type: "exit"; timestamp: string; processId: string; exitCode?: number; status: ProcessStatus; data: string }
  | { type: "error"; timestamp: string; processId?: string; error: string; data?: string };

/** POST /api/env (Atoll). A null value unsets the variable. */
export interface SetEnvRequest {
  sessionId?: string;
  envVars: Record<string, string | null>;
}

export interface ExposedPortRecord {
  port: number;
  name?: string;
  url: string;
  /** "active" when something listens on the port inside the sandbox. */
  status: "active" | "inactive";
  exposedAt: string;
}
