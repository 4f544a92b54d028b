// Bash quoting for values we splice into shell text, and validation of env names.
import { AtollError, ErrorCode, assertEnvSetBounds } from "@atoll/protocol";

/** ANSI-C quoting ($'...'): any string without NUL survives unchanged (quotes, $, newlines). */
export function bashQuote(s: string): string {
  return "$'" + s.replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Validates an env map from a request body: names are shell identifiers, values strings without NUL, sizes within ENV_BOUNDS. */
export function checkEnv(v: unknown, field: string, allowNull = false): Record<string, string | null> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot use "${field}": expected an object of string values`, { field });
  }
  const out: Record<string, string | null> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!ENV_NAME_RE.test(k)) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variable ${JSON.stringify(k.slice(0, 80))}: names are letters, digits and '_', not starting with a digit`, { field, name: k.slice(0, 80) });
    }
    if (val === null && allowNull) {
      out[k] = null;
      continue;
    }
    if (typeof val !== "string") {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variable ${k}: value must be a string`, { field, name: k });
    }
    if (val.includes("\0")) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variable ${k}: value contains a NUL byte`, { field, name: k });
    }
    out[k] = val;
  }
  // Count, name, value and total bounds (protocol env-bounds.ts): LIMIT_EXCEEDED, 400 — a bigger
  // env would make every exec fail with E2BIG.
  assertEnvSetBounds(out, field);
  return out;
}

/** Shell lines that export (or unset, for null) each variable. */
export function exportLines(env: Record<string, string | null>): string {
  return Object.entries(env)
    .map(([k, v]) => (v === null ? `builtin unset ${k}` : `builtin export ${k}=${bashQuote(v)}`))
    .join("\n");
}
