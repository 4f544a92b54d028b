// Validation of what callers ask for: limits (defaults and server-wide maximums), env vars, sleepAfter.
import { AtollError, ErrorCode, assertEnvSetBounds, parseDuration, type SandboxLimits } from "@atoll/protocol";

const LIMIT_KEYS = ["cpu", "memoryMiB", "pids", "diskMiB"] as const;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MIN_SLEEP_AFTER_MS = 1000;
/** Longest sleepAfter: 7 days. Longer idle lifetimes are keepAlive's job; 3.6e26 ms is a mistake. */
export const MAX_SLEEP_AFTER_MS = 7 * 86_400_000;

const invalid = (message: string, context: Record<string, unknown> = {}) => new AtollError(ErrorCode.VALIDATION_FAILED, message, context);

/** Defaults overlaid with the request; each value positive and at most the server maximum. */
export function resolveLimits(req: unknown, defaults: SandboxLimits, max: SandboxLimits): SandboxLimits {
  if (req === undefined || req === null) return { ...defaults };
  if (typeof req !== "object" || Array.isArray(req)) throw invalid("Cannot use limits: expected an object like {cpu, memoryMiB, pids, diskMiB}");
  const out = { ...defaults };
  for (const [k, v] of Object.entries(req as Record<string, unknown>)) {
    if (!(LIMIT_KEYS as readonly string[]).includes(k)) throw invalid(`Cannot use limit ${JSON.stringify(k)}: known limits are ${LIMIT_KEYS.join(", ")}`, { limit: k });
    if (v === undefined) continue;
    const key = k as keyof SandboxLimits;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0 || (key !== "cpu" && !Number.isInteger(v))) {
      throw invalid(`Cannot use limit ${key}=${JSON.stringify(v)}: expected a positive ${key === "cpu" ? "number" : "integer"}`, { limit: key, requested: v });
    }
    if (v > max[key]) {
      throw new AtollError(ErrorCode.LIMIT_EXCEEDED, `Cannot use limit ${key}=${v}: the server allows at most ${max[key]}`, { limit: key, requested: v, max: max[key] });
    }
    out[key] = v;
  }
  return out;
}

/** Env var names are shell identifiers; values are strings without NUL bytes; sizes within ENV_BOUNDS. */
export function validateEnv(env: unknown, what = "envVars"): Record<string, string> {
  if (env === undefined || env === null) return {};
  if (typeof env !== "object" || Array.isArray(env)) throw invalid(`Cannot use ${what}: expected an object of string values`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env as Record<string, unknown>)) {
    if (!ENV_NAME_RE.test(k)) throw invalid(`Cannot use ${what} name ${JSON.stringify(k.slice(0, 80))}: names are letters, digits and '_', not starting with a digit`, { name: k.slice(0, 80) });
    if (typeof v !== "string") throw invalid(`Cannot use ${what}.${k}: value must be a string`, { name: k });
    if (v.includes("\0")) throw invalid(`Cannot use ${what}.${k}: value contains a NUL byte`, { name: k });
    out[k] = v;
  }
  // Count, name, value and total bounds (protocol env-bounds.ts): LIMIT_EXCEEDED, 400.
  assertEnvSetBounds(out, what);
  return out;
}

export function validateSleepAfter(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" && typeof v !== "number") throw invalid('Cannot use sleepAfter: expected a duration like "10m" or a number of seconds');
  const ms = parseDuration(v);
  if (ms < MIN_SLEEP_AFTER_MS) throw invalid(`Cannot use sleepAfter ${JSON.stringify(v)}: minimum is 1s (use keepAlive to never sleep)`, { sleepAfter: v });
  if (ms > MAX_SLEEP_AFTER_MS) throw invalid(`Cannot use sleepAfter ${JSON.stringify(v)}: maximum is 7d (use keepAlive to never sleep)`, { sleepAfter: v, maxMs: MAX_SLEEP_AFTER_MS });
  return ms;
}

export function validateKeepAlive(v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "boolean") throw invalid("Cannot use keepAlive: expected true or false");
  return v;
}

/** Names of snapshots and templates: same shape as sandbox ids. */
export const NAME_RE = /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/;
export function validateName(v: unknown, what: "snapshot" | "template"): string {
  if (typeof v !== "string" || !NAME_RE.test(v)) {
    throw invalid(`Cannot use ${what} name ${JSON.stringify(String(v).slice(0, 80))}: names are 1-63 chars of a-z, 0-9, '.', '_' and '-', starting and ending with a letter or digit`, { name: String(v).slice(0, 80) });
  }
  return v;
}

export function validateOptionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.includes("\0")) throw invalid(`Cannot use ${what}: expected a string without NUL bytes`);
  return v;
}
