// End-to-end harness: starts the real control plane (`atoll serve`) as a child process with a
// fresh temp data dir, the shared base image and a free loopback port, and cleans up after itself.
//
//   const atoll = await startAtoll({ poolSize: 0 });
//   const r = await atoll.json("PUT", "/v1/sandboxes/my-box", {});   // → { status, body, headers }
//   const res = await atoll.api("/v1/sandboxes/my-box/api/execute", { method: "POST", json: { command: "echo hi" } });
//   await atoll.stop();   // destroys every sandbox, stops the server, removes the data dir
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BASE_IMAGE = process.env.ATOLL_BASE_IMAGE ?? "/var/lib/atoll/images/base/current/rootfs";
const BIN = path.join(REPO_ROOT, "packages/server/src/bin.ts");

export interface AtollOptions {
  /** Pre-started sandboxes kept by the driver (ATOLL_POOL_SIZE). Default 0 to keep tests lean. */
  poolSize?: number;
  /** Extra environment for the server (e.g. ATOLL_MAX_MEMORY_MIB). */
  env?: Record<string, string>;
  /** Fixed API key; default a random one passed as ATOLL_API_KEY. Pass null to let the server generate one. */
  apiKey?: string | null;
  /** Reuse this data dir instead of a fresh temp one (it is not removed on stop). */
  dataDir?: string;
  /** Print the server's output to this process's stderr (also on when ATOLL_E2E_VERBOSE=1). */
  verbose?: boolean;
  /** Arguments to node that start the server (default: the source, `--import tsx packages/server/src/bin.ts`). */
  command?: string[];
  /** How long to wait for /v1/health (default 30 s). */
  startTimeoutMs?: number;
  /** A command the server is started under, e.g. ["prlimit", "--nofile=512:512", "--"] (it must exec node). */
  wrap?: string[];
}

export interface ApiInit extends Omit<RequestInit, "body"> {
  /** Sent as a JSON body with content-type application/json. */
  json?: unknown;
  body?: RequestInit["body"];
  /** Send no Authorization header. */
  noAuth?: boolean;
}

export interface JsonResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface Atoll {
  url: string;
  port: number;
  apiKey: string;
  dataDir: string;
  /** Server output so far (stdout + stderr). */
  logs(): string;
  /** fetch() against the server with the API key. */
  api(pathname: string, init?: ApiInit): Promise<Response>;
  /** JSON call: method, path, optional body → parsed JSON (or text when not JSON). */
  json<T = any>(method: string, pathname: string, body?: unknown, init?: ApiInit): Promise<JsonResult<T>>;
  /** Graceful stop (SIGTERM) and start again on the same port and data dir. */
  restart(): Promise<void>;
  /** SIGKILL the server (sandboxes keep running); call restart() to bring it back. */
  kill9(): Promise<void>;
  /** Destroys every sandbox, stops the server and removes a temp data dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Tiny JSON fetch helper: parses the body as JSON when possible. */
export async function fetchJson<T = any>(url: string, init: ApiInit = {}): Promise<JsonResult<T>> {
  const { json, noAuth: _noAuth, ...rest } = init;
  const headers = new Headers(rest.headers);
  let body = rest.body;
  if (json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(json);
  }
  const res = await fetch(url, { ...rest, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function startAtoll(opts: AtollOptions = {}): Promise<Atoll> {
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "atoll-e2e-"));
  let port = await freePort();
  let url = `http://127.0.0.1:${port}`;
  const verbose = opts.verbose ?? process.env.ATOLL_E2E_VERBOSE === "1";
  let apiKey = opts.apiKey === null ? "" : (opts.apiKey ?? `test-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`);
  let child: ChildProcess | undefined;
  let output = "";
  let stopped = false;

  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ATOLL_DATA_DIR: dataDir,
    ATOLL_HOST: "127.0.0.1",
    ATOLL_BASE_IMAGE: BASE_IMAGE,
    ATOLL_POOL_SIZE: String(opts.poolSize ?? 0),
    ATOLL_LOG_LEVEL: process.env.ATOLL_LOG_LEVEL ?? "info",
    ...(opts.env ?? {}),
  };
  if (apiKey) env.ATOLL_API_KEY = apiKey;
  else delete env.ATOLL_API_KEY;

  async function launch(): Promise<void> {
    output = "";
    const argv = [...(opts.wrap ?? []), process.execPath, ...(opts.command ?? ["--import", "tsx", BIN])];
    const c = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: { ...env, ATOLL_PORT: String(port), ATOLL_STDIN_LIFELINE: "1" }, stdio: ["pipe", "pipe", "pipe"] });
    child = c;
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.length > 1_000_000) output = output.slice(-500_000);
      if (verbose) process.stderr.write(d);
    };
    c.stdout!.on("data", onData);
    c.stderr!.on("data", onData);
    const exited = new Promise<number | null>((r) => c.once("exit", (code) => r(code)));
    const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
    for (;;) {
      if (Date.now() > deadline) {
        c.kill("SIGKILL");
        throw new Error(`Cannot start atoll: /v1/health did not answer in time\n${output}`);
      }
      const code = await Promise.race([exited, new Promise<"wait">((r) => setTimeout(() => r("wait"), 50))]);
      if (code !== "wait") throw new Error(`Cannot start atoll: server exited with ${code}\n${output}`);
      try {
        const r = await fetch(`${url}/v1/health`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) break;
      } catch {
        /* not listening yet */
      }
    }
    if (!apiKey) apiKey = readFileSync(path.join(dataDir, "api-key"), "utf8").trim();
  }

  function waitExit(c: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
      c.once("exit", () => {
        clearTimeout(t);
        resolve();
      });
      c.kill(signal);
    });
  }

  const atoll: Atoll = {
    get url() {
      return url;
    },
    get port() {
      return port;
    },
    get apiKey() {
      return apiKey;
    },
    dataDir,
    logs: () => output,
    api(pathname, init = {}) {
      const { json, noAuth, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!noAuth && !headers.has("authorization")) headers.set("authorization", `Bearer ${apiKey}`);
      let body = rest.body;
      if (json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(json);
      }
      return fetch(url + pathname, { ...rest, headers, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit);
    },
    json(method, pathname, body, init = {}) {
      const headers = new Headers(init.headers);
      if (!init.noAuth && !headers.has("authorization")) headers.set("authorization", `Bearer ${apiKey}`);
      return fetchJson(url + pathname, { ...init, method, headers, json: body });
    },
    async restart() {
      if (child) await waitExit(child, "SIGTERM", 10_000);
      await launch();
    },
    async kill9() {
      if (child) await waitExit(child, "SIGKILL", 1_000);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        // A crashed or killed server is started again so its sandboxes can be destroyed.
        if (!child || child.exitCode !== null || child.signalCode !== null) await launch();
        const list = await atoll.json<{ sandboxes: { id: string }[] }>("GET", "/v1/sandboxes", undefined, { signal: AbortSignal.timeout(10_000) });
        for (const s of list.body?.sandboxes ?? []) await atoll.json("DELETE", `/v1/sandboxes/${s.id}`, undefined, { signal: AbortSignal.timeout(60_000) });
      } finally {
        if (child) await waitExit(child, "SIGTERM", 15_000);
      }
      if (ownDir) removeDataDir(dataDir);
    },
  };
  // The free port may be taken between probing and binding (parallel test runs): try another.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test(output)) throw e;
      port = await freePort();
      url = `http://127.0.0.1:${port}`;
    }
  }
  return atoll;
}

/** Removes a test data dir, unless something is still mounted inside it (that would be a leak to report). */
function removeDataDir(dir: string): void {
  if (!existsSync(dir)) return;
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m === dir || m.startsWith(dir + "/"));
  if (mounts.length) {
    console.error(`[harness] not removing ${dir}: still mounted: ${mounts.join(", ")}`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Creates (or gets) a sandbox with PUT /v1/sandboxes/:id; throws unless the answer is 200 or 201. */
export async function createSandbox(atoll: Atoll, id: string, body: Record<string, unknown> = {}): Promise<JsonResult> {
  const r = await atoll.json("PUT", `/v1/sandboxes/${id}`, body);
  if (r.status !== 200 && r.status !== 201) throw new Error(`Cannot create sandbox ${id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

/** Runs a command in a sandbox through the control plane (POST /api/execute); returns the agent's JSON. */
export async function exec(atoll: Atoll, id: string, command: string, extra: Record<string, unknown> = {}): Promise<{ status: number; stdout: string; stderr: string; exitCode: number; body: any }> {
  // Bounded: a stuck call fails the test (and its cleanup runs) instead of hanging the run.
  const r = await atoll.json("POST", `/v1/sandboxes/${id}/api/execute`, { command, ...extra }, { signal: AbortSignal.timeout(60_000) });
  return { status: r.status, stdout: r.body?.stdout, stderr: r.body?.stderr, exitCode: r.body?.exitCode, body: r.body };
}

/**
 * Makes this process act as the control plane towards sandboxes: joins the control plane's host
 * group (ATOLL_GROUP, default atoll), which the host firewall requires for any connection to a
 * sandbox address (benchmarks that reach sandboxes directly). Returns the gid.
 */
export function joinControlPlaneGroup(): number {
  const name = process.env.ATOLL_GROUP || "atoll";
  const line = execFileSync("getent", ["group", name], { encoding: "utf8" });
  const gid = Number(line.split(":")[2]);
  if (!process.getgroups!().includes(gid)) process.setgroups!([...process.getgroups!(), gid]);
  return gid;
}

/** The agent key of a running sandbox (oci driver), from its state file (root only; 0600). */
export async function agentKeyOf(dataDir: string, id: string): Promise<string> {
  const r = await hostResources(dataDir, id);
  return JSON.parse(readFileSync(path.join(r.dir, "state.json"), "utf8")).agentKey;
}

/** Host-side names of a sandbox's resources (oci driver), read from its data dir without starting anything. */
export async function hostResources(dataDir: string, id: string) {
  const { createOciDriver } = await import("../../packages/server/src/drivers/oci/index.js");
  const d = createOciDriver({ dataDir, poolSize: 0, bridge: process.env.ATOLL_BRIDGE || undefined, subnet: process.env.ATOLL_SUBNET || undefined });
  return { ...d.resources(id), runtimeRoot: d.cfg.runtimeRoot };
}

/** Memory cgroup directory of a sandbox (cgroup v1 or v2), whether or not it exists. */
export function memoryCgroupDir(cgroupsPath: string): string {
  return existsSync("/sys/fs/cgroup/memory") ? `/sys/fs/cgroup/memory${cgroupsPath}` : `/sys/fs/cgroup${cgroupsPath}`;
}

/** What is left on the host of a destroyed sandbox: [] when nothing leaked. */
export function leftovers(r: Awaited<ReturnType<typeof hostResources>>): string[] {
  const out: string[] = [];
  const check = (what: string, p: string) => existsSync(p) && out.push(`${what} ${p}`);
  check("dir", r.dir);
  check("mount dir", r.mountDir);
  check("netns", `/run/netns/${r.netns}`);
  if (r.veth) check("veth", `/sys/class/net/${r.veth}`);
  for (const ctl of ["memory", "pids", "cpu", "cpu,cpuacct", "freezer", ""]) check("cgroup", path.join("/sys/fs/cgroup", ctl, r.cgroup));
  check("container state", path.join(r.runtimeRoot, r.container));
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const m = line.split(" ")[1] ?? "";
    if (m === r.dir || m.startsWith(r.dir + "/") || m.startsWith(r.mountDir + "/") || m === r.diskMnt) out.push(`mount ${m}`);
  }
  return out;
}
