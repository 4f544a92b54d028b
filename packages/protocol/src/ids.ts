// Validation of names that cross the wire: sandbox ids, ports, tokens, durations.
import { AtollError, ErrorCode } from "./errors.js";

/** 1–63 chars, DNS-label-safe, lower case; dashes allowed inside. */
export const SANDBOX_ID_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/**
 * Preview token: 16 chars of [a-z0-9_] (Cloudflare 0.12's alphabet). No '-', so a token can never
 * end a DNS label with one. Tokens issued before this rule may contain '-': the preview parser
 * still accepts those (LEGACY_TOKEN_RE) so URLs already handed out keep working (docs/preview.md).
 */
export const TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_";
export const TOKEN_RE = /^[a-z0-9_]{16}$/;
export const LEGACY_TOKEN_RE = /^[a-z0-9_-]{16}$/;
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

/**
 * A host as callers may name it for preview URLs (`hostname` of exposePort, `?hostname=`, and the
 * Host header those fall back to): a DNS name, an IPv4 address or a bracketed IPv6 address, with
 * an optional :port. Nothing else (no userinfo "a.com@evil.example", paths, spaces or quotes) may
 * flow into a URL the control plane hands out.
 */
const HOST_LABEL = "(?!-)[a-z0-9-]{1,63}(?<!-)";
const HOSTNAME_RE = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*\\.?|\\[[0-9a-f:.]{2,45}\\])(?::(\\d{1,5}))?$`, "i");

/** Why `host` cannot be used as a preview host name, or null when it can. */
export function hostnameProblem(host: unknown): string | null {
  if (typeof host !== "string" || host.length === 0) return "expected a host name";
  if (host.length > 260) return "longer than 260 characters";
  const m = HOSTNAME_RE.exec(host);
  if (!m) return "expected a DNS name, IPv4 or [IPv6] address with an optional :port";
  if (m[1] !== undefined && (Number(m[1]) < 1 || Number(m[1]) > 65535)) return "port must be between 1 and 65535";
  return null;
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
