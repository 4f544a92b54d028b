// Test helpers for the code interpreter: a real agent server on loopback with real executors.
// Python runs inside the base image rootfs (chroot), because the host's python3 lacks
// IPython/pandas/matplotlib; the runner file is copied into the rootfs for the test and removed.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SSEDecoder } from "@atoll/protocol";

export const ROOTFS = process.env.ATOLL_BASE_IMAGE ?? "/var/lib/atoll/images/base/current/rootfs";
export const HAVE_ROOTFS = existsSync(path.join(ROOTFS, "usr/bin/python3"));
/** A directory both executors see: the rootfs path for Python (chroot), the host path for Node. */
export const SHARED_IN_ROOTFS = `/tmp/atoll-interp-test-${process.pid}`;
export const SHARED_ON_HOST = path.join(ROOTFS, SHARED_IN_ROOTFS);

const RUNNER = fileURLToPath(new URL("../runtime/python_runner.py", import.meta.url));
const JS_RUNNER_SRC = fileURLToPath(new URL("../src/interpreter/js-runner/main.ts", import.meta.url));

export interface Agent {
  base: string;
  close(): Promise<void>;
}

/** Starts an agent (no pre-warm) whose Python executors run via chroot into the base image. */
export async function startAgent(): Promise<Agent> {
  process.env.ATOLL_AGENT_NO_LISTEN = "1";
  process.env.ATOLL_INTERPRETER_PREWARM ??= "off";
  process.env.ATOLL_INTERPRETER_INTERRUPT_GRACE_MS ??= "2000";
  mkdirSync(SHARED_ON_HOST, { recursive: true });
  cpSync(RUNNER, path.join(SHARED_ON_HOST, "python_runner.py"));
  process.env.ATOLL_INTERPRETER_PYTHON = JSON.stringify(["chroot", ROOTFS, "python3"]);
  process.env.ATOLL_INTERPRETER_PYTHON_RUNNER = `${SHARED_IN_ROOTFS}/python_runner.py`;
  // IPython's profile dir goes to the test dir too: the base image must stay untouched.
  process.env.IPYTHONDIR = `${SHARED_IN_ROOTFS}/ipython`;
  // A fresh JS executor bundle from source, per test process (no race on dist/).
  const { build } = await import("esbuild");
  const jsRunner = path.join(SHARED_ON_HOST, "js_runner.mjs");
  await build({ entryPoints: [JS_RUNNER_SRC], outfile: jsRunner, bundle: true, platform: "node", target: "node18", format: "esm", logLevel: "warning",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
  process.env.ATOLL_INTERPRETER_JS_RUNNER = jsRunner;
  process.env.ATOLL_ESBUILD = createRequire(import.meta.url).resolve("@esbuild/linux-x64/bin/esbuild");
  const { createAgentServer } = await import("../src/main.js");
  process.env.ATOLL_AGENT_AUTH = "off"; // loopback test agent without a control plane (auth.test.ts covers auth)
  const { interpreter } = await import("../src/interpreter/index.js");
  const srv = createAgentServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return {
    base,
    async close() {
      interpreter.shutdown();
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
      rmSync(SHARED_ON_HOST, { recursive: true, force: true });
    },
  };
}

export async function call(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(base + p, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

export async function createContext(base: string, body: Record<string, unknown>): Promise<string> {
  const r = await call(base, "POST", "/api/contexts", body);
  if (r.status !== 200) throw new Error(`create context failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.contextId as string;
}

export interface Ev {
  type: string;
  /** ms since the request was sent, measured by the client on arrival. */
  at: number;
  [k: string]: any;
}

export interface Run {
  status: number;
  events: Ev[];
  error?: any;
  stdout: string;
  stderr: string;
  results: Ev[];
  execError?: Ev;
}

/** POST /api/execute/code and collect the SSE events with client-side arrival times. */
export async function runCode(
  base: string,
  body: Record<string, unknown>,
  opts: { signal?: AbortSignal; onEvent?: (e: Ev) => void } = {},
): Promise<Run> {
  const { signal, onEvent } = opts;
  const t0 = performance.now();
  const r = await fetch(base + "/api/execute/code", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal });
  if (!r.ok) return { status: r.status, events: [], error: await r.json(), stdout: "", stderr: "", results: [] };
  const dec = new SSEDecoder();
  const events: Ev[] = [];
  const td = new TextDecoder();
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    for (const e of dec.push(td.decode(chunk, { stream: true }))) {
      const ev = { ...(e as object), at: performance.now() - t0 } as Ev;
      events.push(ev);
      onEvent?.(ev);
    }
  }
  return {
    status: r.status,
    events,
    stdout: events.filter((e) => e.type === "stdout").map((e) => e.text).join(""),
    stderr: events.filter((e) => e.type === "stderr").map((e) => e.text).join(""),
    results: events.filter((e) => e.type === "result"),
    execError: events.find((e) => e.type === "error"),
  };
}

/** Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG. */
export function pngSize(b64: string): { width: number; height: number } {
  const buf = Buffer.from(b64, "base64");
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buf.subarray(0, 8).equals(sig)) throw new Error("not a PNG: bad signature");
  if (buf.toString("latin1", 12, 16) !== "IHDR") throw new Error("not a PNG: first chunk is not IHDR");
  if (buf.toString("latin1", buf.length - 8, buf.length - 4) !== "IEND") throw new Error("not a PNG: no IEND at the end");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}
