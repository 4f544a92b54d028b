// Validation of names that cross the wire: sandbox ids, ports, tokens, durations.
import { AtollError, ErrorCode } from "./errors.js";

/** 1–63 chars, DNS-label-safe, lower case; dashes allowed inside. */
export const SANDBOX_ID_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Preview token: exactly 16 chars of [a-z0-9_-]. */
export const TOKEN_RE = /^[a-z0-9_-]{16}$/;
export const TOKEN_LENGTH = 16;
export const AGENT_PORT = 3000;
export const MIN_PORT = 1024;
export const MAX_PORT = 65535;

export function isValidSandboxId(id: unknown): id is string {
  return typeof id === "string" && SANDBOX_ID_RE.test(id);
}

export function assertSandboxId(id: unknown): asserts id is string {
  if (!isValidSandboxId(id)) {
    throw new AtollError(
      ErrorCode.INVALID_SANDBOX_ID,
      `Cannot use sandbox id ${JSON.stringify(String(id).slice(0, 80))}: ids are 1-63 chars of a-z, 0-9 and '-', starting and ending with a letter or digit`,
      { id: String(id).slice(0, 80) },
    );
  }
}

/** Why a port cannot be exposed, or null when it can. */
export function portProblem(port: unknown): string | null {
  if (typeof port !== "number" || !Number.isInteger(port)) return "port must be an integer";
  if (port === AGENT_PORT) return `port ${AGENT_PORT} is reserved for the sandbox agent`;
  if (port < MIN_PORT || port > MAX_PORT) return `port must be between ${MIN_PORT} and ${MAX_PORT}`;
  return null;
}

export function assertExposablePort(port: unknown): asserts port is number {
  const why = portProblem(port);
  if (why) throw new AtollError(ErrorCode.INVALID_PORT, `Cannot expose port ${String(port)}: ${why}`, { port });
}

/** Parses "30s", "5m", "1h", "2d", "1500ms" or a number of seconds into milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v < 0) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot parse duration ${v}: must be a non-negative number of seconds`, { value: v });
    return Math.round(v * 1000);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot parse duration ${JSON.stringify(v)}: use e.g. "30s", "5m", "1h" or a number of seconds`, { value: v });
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return Math.round(n * mult);
}
