// One executor process (Python or Node) and its JSON-line protocol: commands go to the child's
// fd 3, events come back on fd 4; the child's fds 1/2 (output written below the language runtime,
// e.g. by subprocesses) are forwarded to the running execution as stdout/stderr.
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { executorArgv, type ExecutorKind } from "./runtime-paths.js";
import { raiseOomScore } from "../process/oom.js";
import { newJob, type Job } from "../process/jobs.js";
import { userBaseEnv } from "../process/user-env.js";

/** An event as the runners write it (see runtime/python_runner.py, js-runner/main.ts). */
export interface RunnerEvent {
  ev: "ready" | "configured" | "stdout" | "stderr" | "result" | "error" | "done";
  id?: number | null;
  text?: string;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  main?: boolean;
  ename?: string;
  evalue?: string;
  traceback?: string[];
  count?: number;
  error?: string;
  pid?: number;
  startup_ms?: number;
}

/** The agent's env without Atoll's settings (process/user-env.ts); ATOLL_ESBUILD (tests) is handed on as esbuild's own variable. */
function executorEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = userBaseEnv();
  if (process.env.ATOLL_ESBUILD) env.ESBUILD_BINARY_PATH ??= process.env.ATOLL_ESBUILD;
  return env;
}

/** A line longer than this means a broken or hostile runner: it is killed. */
const MAX_LINE = 256 * 1024 * 1024;

export class ExecutorExitedError extends Error {
  constructor(readonly exitCode: number | null, readonly signal: NodeJS.Signals | null) {
    super(`the executor process exited (${signal ? `signal ${signal}` : `code ${exitCode}`})`);
  }
}

interface Active {
  id: number;
  onEvent: (e: RunnerEvent) => void;
  resolve: (count: number) => void;
  reject: (e: Error) => void;
}

export class Executor {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly spawnedAt = performance.now();
  /** ms from spawn to the runner's "ready" event. */
  readyMs?: number;
  /** The runner's own start-up as it measured it (Python: from its first line; Node: process uptime). */
  runnerStartupMs?: number;
  exited = false;
  /** The executor's job cgroup (process/jobs.ts; spared by kill-all while it lives), null without job cgroups. */
  private readonly job: Job | null = newJob("i");
  private cmd: Writable;
  private evs: Readable;
  private active: Active | null = null;
  private configWaiters: Array<(e: RunnerEvent) => void> = [];
  private nextId = 1;
  private exitListeners: Array<(e: ExecutorExitedError) => void> = [];
  /** What the runner printed before it was ready (diagnostics when it fails to start). */
  private startupOutput = "";

  constructor(readonly kind: ExecutorKind, env: NodeJS.ProcessEnv = executorEnv()) {
    const [bin, ...args] = executorArgv(kind);
    // Own process group: deleting the context also ends whatever the user's code started.
    this.proc = spawn(bin!, args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"], env, cwd: "/", detached: true });
    raiseOomScore(this.proc.pid); // user code dies before the agent under memory pressure (process/oom.ts)
    // before it is sent any code (the runner itself starts nothing): all the code starts is born there
    if (this.job) this.job.spared = this.job.adopt(this.proc.pid);
    this.cmd = this.proc.stdio[3] as Writable;
    this.evs = this.proc.stdio[4] as Readable;
    this.cmd.on("error", () => {}); // EPIPE after exit: reported through 'exit'
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => ((onReady = res), (onFail = rej)));
    this.ready.catch(() => {});
    this.readEvents(onReady);
    for (const name of ["stdout", "stderr"] as const) {
      const dec = new StringDecoder("utf8");
      this.proc[name]!.on("data", (c: Buffer) => {
        if (this.readyMs === undefined && this.startupOutput.length < 4096) this.startupOutput += c.toString("utf8");
        this.dispatch([{ ev: name, id: null, text: dec.write(c) }]);
      });
    }
    this.proc.on("error", (e) => onFail(new Error(`Cannot start ${kind} executor: ${e.message}`)));
    this.proc.on("exit", (code, signal) => {
      this.exited = true;
      if (this.job) this.job.spared = false; // what its code left behind is kill-all's now
      const err = new ExecutorExitedError(code, signal);
      if (this.readyMs === undefined) {
        const out = this.startupOutput.trim().split("\n").slice(-3).join(" | ");
        onFail(new Error(`Cannot start ${kind} executor: ${err.message}${out ? `: ${out}` : ""}`));
      }
      this.active?.reject(err);
      this.active = null;
      for (const w of this.configWaiters.splice(0)) w({ ev: "configured", error: err.message });
      for (const l of this.exitListeners) l(err);
    });
  }

  onExit(fn: (e: ExecutorExitedError) => void): void {
    this.exitListeners.push(fn);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get busy(): boolean {
    return this.active !== null;
  }

  private readEvents(onReady: () => void): void {
    const dec = new StringDecoder("utf8");
    let buf = "";
    this.evs.on("data", (chunk: Buffer) => {
      buf += dec.write(chunk);
      if (buf.length > MAX_LINE) {
        this.kill();
        return;
      }
      const out: RunnerEvent[] = [];
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let e: RunnerEvent;
        try {
          e = JSON.parse(line) as RunnerEvent;
        } catch {
          continue; // a torn line (the runner was killed mid-write): skip it
        }
        if (e.ev === "ready") {
          this.readyMs = performance.now() - this.spawnedAt;
          this.runnerStartupMs = e.startup_ms;
          onReady();
        } else if (e.ev === "configured") this.configWaiters.shift()?.(e);
        else out.push(e);
      }
      this.dispatch(out);
    });
  }

  /** Delivers events to the running execution; adjacent output of one stream is merged. */
  private dispatch(events: RunnerEvent[]): void {
    const merged: RunnerEvent[] = [];
    for (const e of events) {
      const prev = merged[merged.length - 1];
      if (prev && (e.ev === "stdout" || e.ev === "stderr") && prev.ev === e.ev && prev.id === e.id) prev.text += e.text ?? "";
      else merged.push({ ...e });
    }
    for (const e of merged) {
      const a = this.active;
      if (!a) continue; // output outside any run (late timers): nobody to deliver it to
      if (e.id !== null && e.id !== undefined && e.id !== a.id) continue; // from an abandoned run
      if (e.ev === "done") {
        this.active = null;
        a.resolve(e.count ?? 0);
      } else a.onEvent(e);
    }
  }

  async configure(cwd: string | undefined, env: Record<string, string> | undefined): Promise<void> {
    await this.ready;
    const reply = await new Promise<RunnerEvent>((res) => {
      this.configWaiters.push(res);
      this.send({ op: "configure", cwd, env });
    });
    if (reply.error) throw new Error(reply.error);
  }

  /** Runs one cell. Resolves with the execution count when the runner reports "done". */
  exec(code: string, lang: string, env: Record<string, string> | undefined, onEvent: (e: RunnerEvent) => void): Promise<number> {
    if (this.active) throw new Error("executor is busy");
    if (this.exited) return Promise.reject(new ExecutorExitedError(this.proc.exitCode, this.proc.signalCode));
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.active = { id, onEvent, resolve, reject };
      this.send({ op: "exec", id, code, lang, env });
    });
  }

  private send(cmd: unknown): void {
    if (!this.exited) this.cmd.write(JSON.stringify(cmd) + "\n");
  }

  /** SIGINT: KeyboardInterrupt in Python, interruption in Node. */
  interrupt(): void {
    if (!this.exited) this.proc.kill("SIGINT");
  }

  /** SIGKILL to the executor's whole process group (and job cgroup). */
  kill(): void {
    if (this.job) {
      const job = this.job;
      job.spared = false;
      void job.kill().then(() => job.remove());
    }
    if (this.proc.pid === undefined) return;
    try {
      process.kill(-this.proc.pid, "SIGKILL");
    } catch {
      if (!this.exited) this.proc.kill("SIGKILL");
    }
  }

  /** Flow control: stop reading output while the HTTP client is slow (the runner then blocks on write). */
  pause(): void {
    this.evs.pause();
    this.proc.stdout?.pause();
    this.proc.stderr?.pause();
  }

  resume(): void {
    this.evs.resume();
    this.proc.stdout?.resume();
    this.proc.stderr?.resume();
  }
}
