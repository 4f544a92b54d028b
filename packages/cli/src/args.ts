// Argument parsing on node:util parseArgs (strict): declared flags only — an unknown flag is a
// usage error — as --name value, --name=value, -x value, booleans, repeatable flags; positionals;
// and everything after "--" kept verbatim.
import { parseArgs as utilParseArgs } from "node:util";

export interface FlagSpec {
  /** Flags that take a value. */
  string?: string[];
  /** Flags that take no value. */
  bool?: string[];
  /** Flags that take a value and may repeat (values collected in order). */
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

type OptionsConfig = NonNullable<Parameters<typeof utilParseArgs>[0]>["options"] & {};

export function parseArgs(argv: string[], spec: FlagSpec = {}): Parsed {
  const options: OptionsConfig = {};
  for (const n of spec.string ?? []) options[n] = { type: "string" };
  for (const n of spec.bool ?? []) options[n] = { type: "boolean" };
  for (const n of spec.multi ?? []) options[n] = { type: "string", multiple: true };
  for (const [short, long] of Object.entries(spec.alias ?? {})) if (options[long]) options[long]!.short = short;
  let r: ReturnType<typeof utilParseArgs<{ args: string[]; options: OptionsConfig; allowPositionals: true; strict: true; tokens: true }>>;
  try {
    r = utilParseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true });
  } catch (e) {
    // node's messages: "Unknown option '--x'…", "Option '--cwd <value>' argument missing"
    throw new UsageError(((e as Error).message.split(". ")[0] ?? "bad arguments").replace(/^Unknown option/, "unknown option"));
  }
  const end = r.tokens.find((t) => t.kind === "option-terminator");
  const out: Parsed = { positionals: end ? r.positionals.slice(0, r.positionals.length - (argv.length - end.index - 1)) : r.positionals, flags: {}, multi: {}, rest: end ? argv.slice(end.index + 1) : null };
  for (const [k, v] of Object.entries(r.values)) {
    if (Array.isArray(v)) out.multi[k] = v as string[];
    else if (v !== undefined) out.flags[k] = v as string | boolean;
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
