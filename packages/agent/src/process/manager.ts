// Background processes: started from a session's state (cwd + exported env as of its last
// completed command), tracked by id, killed as whole trees (with job cgroups: everything born in
// the process's cgroup, see jobs.ts), logs kept in bounded rings.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { AtollError, DEFAULT_SESSION_ID, ErrorCode, type StartProcessRequest } from "@atoll/protocol";
import { bashPath } from "../session/bash.js";
import type { SessionManager } from "../session/manager.js";
import { bashQuote, exportLines } from "../session/quote.js";
import { oomShellLine } from "./oom.js";
import { killEverything, killUnspared, newJob } from "./jobs.js";
import { ProcRecord } from "./record.js";
import { processLogBytes } from "./ring.js";
import { killGraceMs, killTree } from "./tree.js";

export const PROCESS_ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;
/** Finished records kept before the oldest are evicted (env ATOLL_PROCESS_MAX_FINISHED). */
const MAX_FINISHED = Number(process.env.ATOLL_PROCESS_MAX_FINISHED) > 0 ? Number(process.env.ATOLL_PROCESS_MAX_FINISHED) : 256;

/** Total log bytes kept for finished records (env ATOLL_PROCESS_FINISHED_LOG_BYTES, default 64 MiB). */
const FINISHED_LOG_BUDGET = Number(process.env.ATOLL_PROCESS_FINISHED_LOG_BYTES) > 0 ? Number(process.env.ATOLL_PROCESS_FINISHED_LOG_BYTES) : 64 * 1024 * 1024;

/** The fields of the wire request the manager uses. */
export type StartOptions = Pick<StartProcessRequest, "command" | "processId" | "sessionId" | "env" | "cwd" | "timeoutMs">;

export class ProcessManager {
  private procs = new Map<string, ProcRecord>();

  constructor(private readonly sessions: SessionManager) {}

  start(o: StartOptions): ProcRecord {
    const id = o.processId ?? `proc_${Date.now()}_${randomBytes(4).toString("hex")}`;
    if (!PROCESS_ID_RE.test(id)) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot start process ${JSON.stringify(id.slice(0, 80))}: ids are 1-128 chars of letters, digits and . _ : @ -`, { processId: id.slice(0, 80) });
    }
    if (this.procs.has(id)) throw new AtollError(ErrorCode.PROCESS_EXISTS, `Cannot start process ${id}: a process with this id already exists`, { processId: id });
    const session = this.sessions.get(o.sessionId);
    const rec = new ProcRecord(id, o.command, session.id ?? DEFAULT_SESSION_ID, processLogBytes());
    const state = bashQuote(session.stateFile);
    rec.job = newJob("p");
    const script = [
      rec.job?.joinLine() ?? "", // first: every process the command starts is born in its job
      oomShellLine(), // before any user code: this tree dies before the agent under memory pressure
      `[ -r ${state} ] && builtin . ${state} >/dev/null 2>&1`,
      o.env ? exportLines(o.env) : "",
      o.cwd ? `builtin cd -- ${bashQuote(o.cwd)} || builtin exit 1` : "",
      `__atoll_c=$1; builtin shift`,
      `builtin eval "$__atoll_c"`,
    ].join("\n");
    const cwd = session.cwd();
    const child = spawn(bashPath(), ["--noprofile", "--norc", "-c", script, "atoll-process", o.command], {
      cwd: existsSync(cwd) ? cwd : "/",
      env: { ...session.spawnEnv(), ATOLL_PROCESS_ID: id, ATOLL_PROCESS_KEY: rec.key },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.procs.set(id, rec);
    rec.attach(child);
    rec.job?.adopt(child.pid); // in case the join line could not run; a no-op otherwise
    if (o.timeoutMs && o.timeoutMs > 0) {
      rec.timer = setTimeout(() => {
        rec.timedOut = true;
        void this.kill(id, "SIGTERM");
      }, o.timeoutMs);
      rec.timer.unref();
    }
    void rec.ended.then(() => this.evict());
    return rec;
  }

  get(id: string): ProcRecord {
    const r = this.procs.get(id);
    if (!r) throw new AtollError(ErrorCode.PROCESS_NOT_FOUND, `Cannot find process ${JSON.stringify(id.slice(0, 128))}: no such process`, { processId: id.slice(0, 128) });
    return r;
  }

  list(): ProcRecord[] {
    return [...this.procs.values()];
  }

  /**
   * Sends `signal` to the process's whole tree (its bash, its process group, every descendant and
   * every process carrying its ATOLL_PROCESS_ID), SIGKILLs what is left after the grace period,
   * and resolves once the tree is gone. Idempotent on finished processes (kills leftovers).
   */
  async kill(id: string, signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    const rec = this.get(id);
    if (!rec.done && !rec.killSignal) rec.killSignal = signal;
    const roots = rec.pid ? [rec.pid] : [];
    const n = await killTree({ roots, pgids: roots, envTag: rec.envTag, job: rec.job }, signal, killGraceMs());
    if (rec.child) await rec.ended;
    rec.job?.remove();
    return n;
  }

  /**
   * Kills every process that has not finished, then (with job cgroups) every leftover of finished
   * commands and processes (kill-all spares only the sessions' shells and running commands, the
   * interpreters and the startup command). Resolves with how many processes were still running.
   */
  async killAll(signal: NodeJS.Signals = "SIGTERM"): Promise<number> {
    const live = this.list().filter((r) => !r.done);
    await Promise.all(live.map((r) => this.kill(r.id, signal)));
    await killUnspared();
    return live.length;
  }

  /**
   * Kills everything in the sandbox except the agent (and PID 1): processes, the sessions' shells
   * and running commands (they end as killed; the next command gets a fresh shell), interpreter
   * executors, the startup command and anything else. Without job cgroups: the processes and the
   * sessions' shells with what /proc shows they started. Resolves with the pids killed.
   */
  async killEverything(): Promise<{ processes: number; pids: number }> {
    const live = this.list().filter((r) => !r.done);
    for (const r of live) if (!r.killSignal) r.killSignal = "SIGKILL";
    let pids = await killEverything();
    const counts = await Promise.all(live.map((r) => this.kill(r.id, "SIGKILL")));
    pids += counts.reduce((a, b) => a + b, 0) + (await this.sessions.killShells());
    return { processes: live.length, pids };
  }

  /** Drops the records of finished processes; resolves with how many. */
  cleanup(): number {
    let n = 0;
    for (const [id, r] of this.procs) {
      if (r.done) {
        this.procs.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Drops the oldest finished records beyond MAX_FINISHED or beyond FINISHED_LOG_BUDGET bytes of logs. */
  private evict(): void {
    const finished = this.list().filter((r) => r.done);
    let bytes = finished.reduce((n, r) => n + r.logs.stdout.size + r.logs.stderr.size, 0);
    let count = finished.length;
    for (const r of finished) {
      if (count <= MAX_FINISHED && bytes <= FINISHED_LOG_BUDGET) break;
      this.procs.delete(r.id);
      count--;
      bytes -= r.logs.stdout.size + r.logs.stderr.size;
    }
  }
}
