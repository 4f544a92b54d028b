// Turns JavaScript values and errors into the runner's wire shapes: a MIME bundle for values
// (text/plain via util.inspect, application/json when the value round-trips), {ename, evalue,
// traceback} for errors.
import { inspect } from "node:util";

const MAX_JSON_CHARS = 4 * 1024 * 1024;

function isPlainJsonish(v: unknown): boolean {
  if (v === null) return true;
  const t = typeof v;
  if (t === "string" || t === "boolean") return true;
  if (t === "number") return Number.isFinite(v as number);
  if (t !== "object") return false;
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function mimeBundle(v: unknown): Record<string, unknown> {
  const data: Record<string, unknown> = { "text/plain": inspect(v, { depth: 6, colors: false, maxArrayLength: 200, breakLength: 100 }) };
  if (isPlainJsonish(v)) {
    try {
      const s = JSON.stringify(v);
      if (s !== undefined && s.length <= MAX_JSON_CHARS) data["application/json"] = JSON.parse(s);
    } catch {
      // cycles, BigInt: text only
    }
  }
  return data;
}

export interface WireError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export function errorShape(e: unknown): WireError {
  if (e instanceof Error || (e && typeof e === "object" && "stack" in e && "message" in e)) {
    const err = e as Error;
    const stack = typeof err.stack === "string" ? err.stack : `${err.name}: ${err.message}`;
    // Drop the runner's own frames: everything from the cell wrapper down is ours.
    const lines = stack.split("\n").filter((l) => !/\(node:|js_runner\.mjs|node:internal/.test(l));
    return { ename: err.name || "Error", evalue: String(err.message ?? ""), traceback: lines };
  }
  const text = inspect(e, { colors: false });
  return { ename: "Error", evalue: `Uncaught ${text}`, traceback: [`Uncaught ${text}`] };
}
