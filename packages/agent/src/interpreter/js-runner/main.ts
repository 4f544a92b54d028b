// Atoll JavaScript/TypeScript executor: one long-lived Node process per code context.
// Protocol (same as the Python runner): JSON-line commands on fd 3, JSON-line events on fd 4.
// Cells run in this process's main context through node:vm, so state persists across runs;
// console output is sent as events synchronously (streams even inside a busy loop).
// SIGINT interrupts synchronous code (breakOnSigint) or abandons an awaiting cell.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import vm from "node:vm";
import { Console } from "node:console";
import { Writable } from "node:stream";
import { builtinModules, createRequire } from "node:module";
import { pathToFileURL, fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { transformCell, IMPORT_HELPER } from "./transform.js";
import { errorShape, mimeBundle } from "./format.js";

const CMD_FD = 3;
const EV_FD = 4;

interface Current {
  id: number;
  interrupt?: (e: Error) => void;
}
let current: Current | null = null;
let count = 0;

function emit(ev: Record<string, unknown>): void {
  const buf = Buffer.from(JSON.stringify(ev) + "\n", "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(EV_FD, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
}

function emitStream(name: "stdout" | "stderr", text: string): void {
  if (text) emit({ ev: name, id: current?.id ?? null, text });
}

// ---- globals the cells see ----
const outStream = (name: "stdout" | "stderr") =>
  new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      emitStream(name, typeof chunk === "string" ? chunk : chunk.toString("utf8"));
      cb();
    },
  });
const g = globalThis as Record<string, unknown>;
g.console = new Console({ stdout: outStream("stdout"), stderr: outStream("stderr"), colorMode: false });
for (const name of ["stdout", "stderr"] as const) {
  const s = process[name] as unknown as { write: unknown };
  s.write = (chunk: string | Uint8Array, enc?: unknown, cb?: unknown) => {
    emitStream(name, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    const done = typeof enc === "function" ? enc : cb;
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  };
}
g.display = (value: unknown) => emit({ ev: "result", id: current?.id ?? null, data: mimeBundle(value), main: false });

function setCwdRequire(dir: string): void {
  g.require = createRequire(path.join(dir, "__atoll_cell__.js"));
}
setCwdRequire(process.cwd());

/** import()/static import of a cell: resolved against the context's cwd, then by Node itself. */
async function importFrom(spec: string): Promise<unknown> {
  if (spec.startsWith("node:") || builtinModules.includes(spec)) return import(spec);
  if (spec.startsWith("file:")) return import(spec);
  if (spec.startsWith(".") || spec.startsWith("/")) return import(pathToFileURL(path.resolve(process.cwd(), spec)).href);
  try {
    return await import(pathToFileURL((g.require as NodeRequire).resolve(spec)).href);
  } catch {
    return import(spec);
  }
}
g[IMPORT_HELPER] = importFrom;

// Output from timers/callbacks after a cell ended still goes somewhere sensible; errors never end the context.
process.on("uncaughtException", (e) => emitStream("stderr", `Uncaught ${errorShape(e).traceback.join("\n")}\n`));
process.on("unhandledRejection", (e) => emitStream("stderr", `Unhandled rejection: ${errorShape(e).traceback.join("\n")}\n`));
process.on("SIGINT", () => {
  const err = new Error("Execution interrupted");
  err.name = "Interrupted";
  current?.interrupt?.(err);
});

// ---- TypeScript ----
// esbuild's JS API (bundled) drives one long-lived esbuild service per TS context: ≈1 ms per cell
// instead of ≈10 ms for a process per cell. Loaded only when a TypeScript cell arrives.
const here = path.dirname(fileURLToPath(import.meta.url));
let esbuild: Promise<typeof import("esbuild")> | undefined;

async function transpileTs(code: string): Promise<string> {
  process.env.ESBUILD_BINARY_PATH ||= process.env.ATOLL_ESBUILD || path.join(here, "esbuild");
  esbuild ??= import("esbuild");
  const { transform } = await esbuild;
  try {
    const out = await transform(code, {
      loader: "ts",
      logLevel: "silent",
      tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
    });
    return out.code;
  } catch (e) {
    const first = (e as { errors?: Array<{ text: string; location?: { line: number; column: number; lineText: string } }> }).errors?.[0];
    if (!first) throw new Error(`Cannot transpile TypeScript: ${(e as Error).message}`);
    const err = new SyntaxError(first.text);
    const loc = first.location;
    err.stack = loc
      ? `SyntaxError: ${first.text}\n    at cell:${loc.line}:${loc.column + 1}\n    ${loc.lineText}\n    ${" ".repeat(loc.column)}^`
      : `SyntaxError: ${first.text}`;
    throw err;
  }
}

// ---- running cells ----
interface ExecCmd {
  op: "exec";
  id: number;
  code: string;
  lang?: string;
  env?: Record<string, string>;
}

async function execCell(cmd: ExecCmd): Promise<void> {
  const cur: Current = { id: cmd.id };
  current = cur;
  count++;
  const saved: Record<string, string | undefined> = {};
  let wrapperFrame: string | undefined;
  for (const [k, v] of Object.entries(cmd.env ?? {})) {
    saved[k] = process.env[k];
    process.env[k] = String(v);
  }
  try {
    const interrupted = new Promise<never>((_, rej) => (cur.interrupt = rej));
    interrupted.catch(() => {});
    const code = cmd.lang === "typescript" ? await Promise.race([transpileTs(cmd.code), interrupted]) : cmd.code;
    let t;
    try {
      t = transformCell(code);
    } catch (e) {
      const msg = (e as Error).message;
      emit({ ev: "error", id: cmd.id, ename: "SyntaxError", evalue: msg, traceback: [`SyntaxError: ${msg}`] });
      return;
    }
    wrapperFrame = `cell[${count}]:${t.source.split("\n").length - 1}:`;
    for (const name of t.globals) if (!(name in g)) g[name] = undefined;
    const script = new vm.Script(t.source, {
      filename: `cell[${count}]`,
      lineOffset: -1,
      importModuleDynamically: ((spec: string) => importFrom(spec)) as any,
    });
    const ret = (await Promise.race([script.runInThisContext({ breakOnSigint: true, displayErrors: false }), interrupted])) as
      | { v: unknown }
      | undefined;
    if (ret && ret.v !== undefined) emit({ ev: "result", id: cmd.id, data: mimeBundle(ret.v), main: true });
  } catch (e) {
    const shape = errorShape(e);
    // The async wrapper's closing line is ours, not the user's.
    if (wrapperFrame) shape.traceback = shape.traceback.filter((l) => !l.includes(wrapperFrame!));
    if ((e as { code?: string })?.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED") shape.ename = "Interrupted";
    emit({ ev: "error", id: cmd.id, ...shape });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    current = null;
    emit({ ev: "done", id: cmd.id, count });
  }
}

function configure(cmd: { cwd?: string; env?: Record<string, string> }): void {
  try {
    if (cmd.cwd) {
      process.chdir(cmd.cwd);
      setCwdRequire(cmd.cwd);
    }
    for (const [k, v] of Object.entries(cmd.env ?? {})) process.env[k] = String(v);
    emit({ ev: "configured" });
  } catch (e) {
    emit({ ev: "configured", error: `${(e as NodeJS.ErrnoException).code ?? "Error"}: ${(e as Error).message}` });
  }
}

// ---- command loop ----
let chain: Promise<void> = Promise.resolve();
let buf = "";
const cmds = new net.Socket({ fd: CMD_FD, readable: true, writable: false });
cmds.setEncoding("utf8");
cmds.on("data", (chunk: string) => {
  buf += chunk;
  let nl: number;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    if (cmd.op === "exec") chain = chain.then(() => execCell(cmd));
    else if (cmd.op === "configure") chain = chain.then(() => configure(cmd));
  }
});
cmds.on("end", () => process.exit(0)); // the agent went away
cmds.on("error", () => process.exit(0));

emit({ ev: "ready", pid: process.pid, startup_ms: Math.round(performance.now() * 10) / 10 });
