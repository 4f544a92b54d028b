// Bounds on environment variables, shared by the control plane (create, stored sandbox env) and
// the agent (setEnvVars, sessions, exec and process env). Linux refuses to exec a program whose
// argv+env exceed ARG_MAX (2 MiB with the default 8 MiB stack) or any one "K=V" string over
// MAX_ARG_STRLEN (128 KiB) with E2BIG; a sandbox whose stored env crossed that could never start
// again. The bounds keep the worst case — stored sandbox env + a session's additions + one exec's
// env ≈ 256 + 256 + 128 KiB — well below it. docs/security.md "Input bounds" lists them.
import { AtollError, ErrorCode } from "./errors.js";

export const ENV_BOUNDS = {
  /** Longest variable name, bytes. */
  nameBytes: 256,
  /** Longest value, bytes (UTF-8). */
  valueBytes: 32 * 1024,
  /** Most variables in one env map. */
  vars: 256,
  /** Largest one env map sent in a call (create envVars, setEnvVars, session env, exec env), bytes. */
  setBytes: 128 * 1024,
  /** Largest env kept: a sandbox's stored env, or what a session added to the sandbox's, bytes. */
  keptBytes: 256 * 1024,
} as const;

/** UTF-8 length of a string without Buffer (the protocol package also runs in browsers and Workers). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    n += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2; // a surrogate pair is 4 bytes in all
  }
  return n;
}

/** Bytes one variable takes in an exec'd environment ("K=V\0" plus its pointer, rounded to 2). */
export function envEntryBytes(name: string, value: string): number {
  return utf8Length(name) + utf8Length(value) + 2;
}

/** Total size of an env map, as envEntryBytes counts it. */
export function envBytes(env: Record<string, string | null | undefined>): number {
  let n = 0;
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") n += envEntryBytes(k, v);
  return n;
}

const tooBig = (what: string, why: string, context: Record<string, unknown>) => new AtollError(ErrorCode.LIMIT_EXCEEDED, `Cannot use ${what}: ${why}`, context);

/**
 * Throws LIMIT_EXCEEDED (400) when one env map in a call is over a bound: too many variables, a
 * name or value too long, or too many bytes in total. Names and value types are checked elsewhere.
 */
export function assertEnvSetBounds(env: Record<string, string | null>, what: string): void {
  const entries = Object.entries(env);
  if (entries.length > ENV_BOUNDS.vars) throw tooBig(what, `${entries.length} variables, at most ${ENV_BOUNDS.vars}`, { limit: "vars", max: ENV_BOUNDS.vars, requested: entries.length });
  let total = 0;
  for (const [k, v] of entries) {
    const nb = utf8Length(k);
    if (nb > ENV_BOUNDS.nameBytes) throw tooBig(what, `name ${JSON.stringify(k.slice(0, 40))}… is ${nb} bytes, at most ${ENV_BOUNDS.nameBytes}`, { limit: "nameBytes", max: ENV_BOUNDS.nameBytes, requested: nb });
    if (typeof v !== "string") continue;
    const vb = utf8Length(v);
    if (vb > ENV_BOUNDS.valueBytes) throw tooBig(what, `value of ${k} is ${vb} bytes, at most ${ENV_BOUNDS.valueBytes}`, { limit: "valueBytes", name: k, max: ENV_BOUNDS.valueBytes, requested: vb });
    total += nb + vb + 2;
  }
  if (total > ENV_BOUNDS.setBytes) throw tooBig(what, `${total} bytes of variables, at most ${ENV_BOUNDS.setBytes}`, { limit: "setBytes", max: ENV_BOUNDS.setBytes, requested: total });
}

/** Throws LIMIT_EXCEEDED when an env that would be kept (stored or accumulated) is over keptBytes. */
export function assertEnvKeptBounds(bytes: number, what: string): void {
  if (bytes > ENV_BOUNDS.keptBytes) {
    throw tooBig(what, `the environment would grow to ${bytes} bytes, at most ${ENV_BOUNDS.keptBytes} are kept (unset variables with null first)`, { limit: "keptBytes", max: ENV_BOUNDS.keptBytes, requested: bytes });
  }
}

/**
 * Cuts a stored env down to the bounds: drops variables whose name or value is too long, then the
 * largest ones until the rest fits keptBytes and the variable count. Returns what was kept and the
 * names dropped (empty when the env was within bounds). Used where stored state is loaded, so an env
 * stored before the bounds existed cannot stop a sandbox from starting.
 */
export function trimEnvToBounds(env: Record<string, string>): { env: Record<string, string>; dropped: string[] } {
  const dropped: string[] = [];
  let entries = Object.entries(env).filter(([k, v]) => {
    const ok = utf8Length(k) <= ENV_BOUNDS.nameBytes && utf8Length(v) <= ENV_BOUNDS.valueBytes;
    if (!ok) dropped.push(k);
    return ok;
  });
  let total = entries.reduce((n, [k, v]) => n + envEntryBytes(k, v), 0);
  if (total > ENV_BOUNDS.keptBytes || entries.length > ENV_BOUNDS.vars) {
    entries = entries.sort((a, b) => envEntryBytes(a[0], a[1]) - envEntryBytes(b[0], b[1]));
    while (entries.length > 0 && (total > ENV_BOUNDS.keptBytes || entries.length > ENV_BOUNDS.vars)) {
      const [k, v] = entries.pop()!;
      total -= envEntryBytes(k, v);
      dropped.push(k);
    }
  }
  return { env: dropped.length ? Object.fromEntries(entries) : env, dropped };
}
