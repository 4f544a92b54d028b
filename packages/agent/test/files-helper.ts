// Test helper for the files/git/watch/archive integration tests: bundles the agent, starts it as a
// real process on a loopback port with its workspace in a temp dir, and offers small HTTP helpers.
// ATOLL_TEST_AGENT_NODE18=1 runs the agent on the base image's Node 18 (through the image's loader).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { SSEDecoder } from "@atoll/protocol";

import { agentBundle, agentCommand, freePort } from "./agent-process.js";

export { freePort };

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
    env: { ...process.env, ATOLL_WORKSPACE: workspace, ATOLL_AGENT_PORT: String(port), ATOLL_AGENT_HOST: "127.0.0.1", ATOLL_AGENT_AUTH: "off", ...env },
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
