// Minimal argv parsing: flags (--name value, --name=value, boolean flags, repeatable flags),
// positionals, and everything after "--" kept verbatim.

export interface FlagSpec {
  /** Flags that take no value. */
  bool?: string[];
  /** Flags that may repeat (values collected in order). */
  multi?: string[];
  /** Short aliases, e.g. { f: "follow" }. */
  alias?: Record<string, string>;
}

export interface Parsed {
  positionals: string[];
  flags: Record<string, string | boolean>;
  multi: Record<string, string[]>;
  /** Arguments after "--". */
  rest: string[] | null;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], spec: FlagSpec = {}): Parsed {
  const out: Parsed = { positionals: [], flags: {}, multi: {}, rest: null };
  const bool = new Set(spec.bool ?? []);
  const multi = new Set(spec.multi ?? []);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.rest = argv.slice(i + 1);
      break;
    }
    if (a.startsWith("-") && a !== "-") {
      let name = a.replace(/^--?/, "");
      let value: string | undefined;
      const eq = name.indexOf("=");
      if (eq >= 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
      name = spec.alias?.[name] ?? name;
      if (bool.has(name)) {
        out.flags[name] = value === undefined ? true : value !== "false";
        continue;
      }
      if (value === undefined) {
        if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
        value = argv[++i]!;
      }
      if (multi.has(name)) (out.multi[name] ??= []).push(value);
      else out.flags[name] = value;
      continue;
    }
    out.positionals.push(a);
  }
  return out;
}

/** "K=V" pairs → object. */
export function parseEnvPairs(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new UsageError(`--env expects NAME=VALUE, got ${JSON.stringify(p)}`);
    env[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return env;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === "string" ? v : undefined;
}

export function num(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

export function need(p: Parsed, index: number, what: string): string {
  const v = p.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`port must be an integer 1-65535, got ${JSON.stringify(v)}`);
  return n;
}
