// Test harness for the session/exec/process integration tests: bundles the agent once, starts it
// as a real process on a loopback port (real bash), and offers HTTP + SSE helpers.
// ATOLL_TEST_AGENT_NODE18=1 runs the bundle on the base image's Node 18 (chroot in a private
// mount namespace that shares the host's /tmp).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { SSEDecoder } from "@atoll/protocol";

import { agentBundle, agentCommand, freePort } from "./agent-process.js";

export interface Agent {
  url: string;
  pid: number;
  workdir: string;
  stop(): Promise<void>;
}

export async function startAgent(env: Record<string, string> = {}): Promise<Agent> {
  const file = await agentBundle();
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-exec-wd-"));
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-exec-run-"));
  const port = await freePort();
  const [cmd, ...args] = agentCommand(file);
  const child: ChildProcess = spawn(cmd!, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ATOLL_WORKDIR: workdir, ATOLL_AGENT_RUN_DIR: runDir, ATOLL_AGENT_PORT: String(port), ATOLL_AGENT_HOST: "127.0.0.1", ATOLL_AGENT_AUTH: "off", ...env },
  });
  await new Promise<void>((resolve, reject) => {
    let log = "";
    child.stderr!.on("data", (c: Buffer) => {
      log += c.toString();
      if (log.includes("listening on")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`agent exited early (${code}): ${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    workdir,
    async stop() {
      // Ends the agent's sessions and processes through its API, then the agent itself.
      try {
        await call(`http://127.0.0.1:${port}`, "DELETE", "/api/process/kill-all?signal=SIGKILL");
      } catch {
        /* agent already gone */
      }
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await gone;
      }
      fs.rmSync(workdir, { recursive: true, force: true });
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  body: any;
}

export async function call(base: string, method: string, route: string, body?: unknown): Promise<Reply> {
  const res = await fetch(base + route, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

export const post = (base: string, route: string, body: unknown) => call(base, "POST", route, body);
export const get = (base: string, route: string) => call(base, "GET", route);

/** Runs a command in a session and returns the ExecResult body (asserting HTTP 200). */
export async function exec(base: string, command: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await post(base, "/api/execute", { command, ...extra });
  if (r.status !== 200) throw new Error(`execute ${command} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** An open SSE request; events arrive in order through next(). Records when each arrived. */
export class SSE {
  private events: Array<{ at: number; ev: any }> = [];
  private waiters: Array<() => void> = [];
  ended = false;
  status = 0;
  bytes = 0;
  /** Counting mode: total characters of stdout/stderr data received. */
  dataChars = 0;
  readonly req: http.ClientRequest;
  res?: http.IncomingMessage;

  constructor(url: string, method: "GET" | "POST", body?: unknown, opts: { keep?: boolean } = {}) {
    const dec = new SSEDecoder();
    this.req = http.request(url, { method, headers: body === undefined ? {} : { "content-type": "application/json" } }, (res) => {
      this.res = res;
      this.status = res.statusCode ?? 0;
      res.setEncoding("utf8");
      res.on("data", (t: string) => {
        this.bytes += t.length;
        if (opts.keep === false) {
          // Counting mode: only keep non-output events.
          for (const ev of dec.push(t) as any[]) {
            if (ev.type !== "stdout" && ev.type !== "stderr") this.events.push({ at: Date.now(), ev });
            else this.dataChars += ev.data.length;
          }
        } else {
          const evs = res.statusCode === 200 ? dec.push(t) : [JSON.parse(t)];
          for (const ev of evs) this.events.push({ at: Date.now(), ev });
        }
        this.wake();
      });
      res.on("end", () => ((this.ended = true), this.wake()));
      res.on("error", () => ((this.ended = true), this.wake()));
    });
    this.req.on("error", () => ((this.ended = true), this.wake()));
    this.req.end(body === undefined ? undefined : JSON.stringify(body));
  }

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The next event with its arrival time, or null when the stream ended. */
  async nextTimed(timeoutMs = 10_000): Promise<{ at: number; ev: any } | null> {
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
    return this.events.shift()!;
  }

  async next(timeoutMs = 10_000): Promise<any> {
    return (await this.nextTimed(timeoutMs))?.ev ?? null;
  }

  /** Events until (and including) the first of `type`. */
  async until(type: string, timeoutMs = 10_000): Promise<any[]> {
    const out: any[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ev = await this.next(Math.max(1, deadline - Date.now()));
      if (ev === null) throw new Error(`stream ended before a ${type} event; got ${JSON.stringify(out).slice(0, 500)}`);
      out.push(ev);
      if (ev.type === type) return out;
    }
  }

  close(): void {
    this.req.destroy();
  }
}

/** Resident and peak memory of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

/** True when the pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Pids whose environment contains KEY=value (to find a tree after it was re-parented). */
export function pidsWithEnv(tag: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const env = fs.readFileSync(`/proc/${d}/environ`, "latin1").split("\0");
      if (env.includes(tag) && alive(Number(d))) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Polls `fn` every 20 ms until it returns a truthy value (bounded); for state with no event. */
export async function until<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
