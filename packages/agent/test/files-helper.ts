// Test helper for the files/git/watch/archive integration tests: bundles the agent, starts it as a
// real process on a loopback port with its workspace in a temp dir, and offers small HTTP helpers.
// ATOLL_TEST_AGENT_NODE18=1 runs the agent on the base image's Node 18 (through the image's loader).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { SSEDecoder } from "@atoll/protocol";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let bundle: Promise<string> | null = null;

/** Bundles the agent once per test process into a temp file (never touches dist/). */
function agentBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-agent-bundle-"));
    process.on("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const out = path.join(dir, "agent.mjs");
    await build({
      entryPoints: [path.join(repo, "packages/agent/src/main.ts")],
      outfile: out, bundle: true, platform: "node", target: "node18", format: "esm", logLevel: "error",
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return out;
  })();
  return bundle;
}

/**
 * The command that runs the bundle. With ATOLL_TEST_AGENT_NODE18=1 the agent runs chrooted in the
 * base image (its Node 18, tar and git) inside a private mount namespace that sees the host's /tmp.
 */
function agentCommand(file: string): string[] {
  if (process.env.ATOLL_TEST_AGENT_NODE18 !== "1") return [process.execPath, file];
  const r = process.env.ATOLL_TEST_ROOTFS ?? "/var/lib/atoll/images/base/current/rootfs";
  if (!file.startsWith("/tmp/")) throw new Error("ATOLL_TEST_AGENT_NODE18 needs the bundle under /tmp");
  const script = `mount --bind /tmp "$0/tmp" && mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/node "$1"`;
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, r, file];
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface TestAgent {
  url: string;
  port: number;
  pid: number;
  workspace: string;
  /** Everything the agent logged to stderr so far. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startAgent(env: Record<string, string> = {}): Promise<TestAgent> {
  const file = await agentBundle();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-ws-"));
  const port = await freePort();
  const [cmd, ...args] = agentCommand(file);
  const child: ChildProcess = spawn(cmd!, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ATOLL_WORKSPACE: workspace, ATOLL_AGENT_PORT: String(port), ATOLL_AGENT_HOST: "127.0.0.1", ...env },
  });
  // Ready when the agent logs that it listens.
  let log = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (c: Buffer) => {
      log += c.toString();
      if (log.includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`agent exited early (${code}): ${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    workspace,
    logs: () => log,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await gone;
      }
      fs.rmSync(workspace, { recursive: true, force: true });
    },
  };
}

export interface JsonReply {
  status: number;
  body: any;
  text: string;
}

export async function postJson(base: string, route: string, body: unknown): Promise<JsonReply> {
  const res = await fetch(base + route, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: any = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text };
}

/** Peak and current resident memory of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** Number of inotify watches held by a process (from /proc/<pid>/fdinfo). */
export function inotifyWatches(pid: number): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    try {
      n += (fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, "utf8").match(/^inotify wd:/gm) ?? []).length;
    } catch {
      /* fd closed meanwhile */
    }
  }
  return n;
}

/** An open SSE request: events arrive in order through next(). */
export class SSEClient {
  private events: unknown[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  readonly req: http.ClientRequest;
  status = 0;
  constructor(url: string, body: unknown) {
    const dec = new SSEDecoder();
    this.req = http.request(url, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      this.status = res.statusCode ?? 0;
      res.setEncoding("utf8");
      res.on("data", (t: string) => {
        const evs = res.statusCode === 200 ? dec.push(t) : [JSON.parse(t)];
        this.events.push(...evs);
        this.wake();
      });
      res.on("end", () => ((this.ended = true), this.wake()));
      res.on("error", () => ((this.ended = true), this.wake()));
    });
    this.req.on("error", () => ((this.ended = true), this.wake()));
    this.req.end(JSON.stringify(body));
  }
  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }
  /** The next event, or null when the stream ended; fails after timeoutMs. */
  async next(timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length === 0) {
      if (this.ended) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for an SSE event");
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => (clearTimeout(t), r()));
      });
    }
    return this.events.shift();
  }
  close(): void {
    this.req.destroy();
  }
}
