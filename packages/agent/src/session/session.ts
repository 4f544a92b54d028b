// A session: a persistent shell plus a queue, so commands on one session run one at a time
// (their output never interleaves) while different sessions run in parallel.
import { readlinkSync } from "node:fs";
import { join } from "node:path";
import { AtollError, ErrorCode, assertEnvKeptBounds, envEntryBytes } from "@atoll/protocol";
import { Shell, type CommandSink, type RunOptions } from "./shell.js";
import { exportLines } from "./quote.js";
import { runDir } from "./rundir.js";
import { userBaseEnv } from "../process/user-env.js";
import { newJob, type Job } from "../process/jobs.js";

export interface ExecOutcome {
  exitCode: number;
  timedOut: boolean;
  /** Ended by kill() (client abort, session delete). */
  killed: boolean;
  /** The shell ended during this command and was restarted for the next one. */
  shellRestarted: boolean;
  /** Date.now() when the command started running (after waiting in the queue). */
  startedAt: number;
}

export interface ExecHandle {
  done: Promise<ExecOutcome>;
  /** Kills the command (or drops it if still queued). */
  kill(): void;
  pause(): void;
  resume(): void;
}

/** Exit code reported for a command ended by its timeout (as timeout(1) does). */
export const TIMEOUT_EXIT_CODE = 124;

let seq = 0;

/** The agent's own environment minus Atoll's settings (every ATOLL_*): the base of every shell. */
export function agentBaseEnv(): Record<string, string> {
  return userBaseEnv();
}

/** Bytes of the variables in `env` that differ from (or are not in) the sandbox's own env. */
export function addedEnvBytes(env: Record<string, string>, base: Record<string, string> = agentBaseEnv()): number {
  let n = 0;
  for (const [k, v] of Object.entries(env)) if (base[k] !== v) n += envEntryBytes(k, v);
  return n;
}

export class Session {
  readonly createdAt = new Date();
  readonly stateFile: string;
  restarts = 0;
  private shell: Shell | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  deleted = false;
  /** This session's job cgroup (process/jobs.ts), null without job cgroups. */
  private readonly job: Job | null = newJob("s");

  constructor(
    readonly id: string,
    /** Environment every (re)started shell begins with: agent env + create env + setEnvVars. */
    private readonly env: Record<string, string>,
    private readonly initialCwd: string,
  ) {
    this.stateFile = join(runDir(), `session-${++seq}.sh`);
    if (this.job) this.job.spared = true;
  }

  /** Starts the shell now (creation errors surface early, first exec is faster). */
  warm(): void {
    this.ensureShell();
  }

  private ensureShell(): Shell {
    if (this.shell && this.shell.alive) return this.shell;
    const restore = this.shell !== null;
    if (restore) this.restarts++;
    this.shell = new Shell({ cwd: this.initialCwd, env: this.env, stateFile: this.stateFile, restore, job: this.job });
    return this.shell;
  }

  get busy(): boolean {
    return this.pending > 0;
  }

  /** The shell's current directory (live), falling back to the initial one. */
  cwd(): string {
    const pid = this.shell?.alive ? this.shell.pid : -1;
    if (pid > 0) {
      try {
        return readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        /* fall through */
      }
    }
    return this.initialCwd;
  }

  /** Env for processes started from this session (they also source the state file). */
  spawnEnv(): Record<string, string> {
    return { ...this.env };
  }

  exec(command: string, opts: RunOptions & { timeoutMs?: number }, sink: CommandSink): ExecHandle {
    if (this.deleted) throw new AtollError(ErrorCode.SESSION_NOT_FOUND, `Cannot run command: session ${this.id} was deleted`, { sessionId: this.id });
    let killRequested = false;
    let running: Shell | null = null;
    let timedOut = false;
    this.pending++;
    const done = this.queue.then(async (): Promise<ExecOutcome> => {
      const startedAt = Date.now();
      if (killRequested || this.deleted) return { exitCode: 137, timedOut: false, killed: true, shellRestarted: false, startedAt };
      const shell = this.ensureShell();
      running = shell;
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs && opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          void shell.killCommand();
        }, opts.timeoutMs);
      }
      try {
        const o = await shell.run(command, { env: opts.env, cwd: opts.cwd }, sink).catch((e: Error) => {
          throw new AtollError(ErrorCode.COMMAND_EXECUTION_ERROR, e.message, { sessionId: this.id });
        });
        return {
          exitCode: timedOut ? TIMEOUT_EXIT_CODE : o.exitCode,
          timedOut,
          killed: o.killed && !timedOut,
          shellRestarted: o.shellExited,
          startedAt,
        };
      } finally {
        if (timer) clearTimeout(timer);
        running = null;
      }
    });
    const settle = () => {
      this.pending--;
    };
    this.queue = done.then(settle, settle);
    return {
      done,
      kill: () => {
        killRequested = true;
        if (running) void running.killCommand();
      },
      pause: () => running?.pause(),
      resume: () => running?.resume(),
    };
  }

  /**
   * Exports (or unsets, for null) variables in the session, and keeps them for restarted shells.
   * What the session adds to the sandbox's env is bounded (ENV_BOUNDS.keptBytes, LIMIT_EXCEEDED):
   * repeated calls must not grow it until every exec fails with E2BIG.
   */
  async setEnv(vars: Record<string, string | null>): Promise<void> {
    const next = { ...this.env };
    for (const [k, v] of Object.entries(vars)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    assertEnvKeptBounds(addedEnvBytes(next), `envVars of session ${this.id}`);
    for (const [k, v] of Object.entries(vars)) {
      if (v === null) delete this.env[k];
      else this.env[k] = v;
    }
    let stderr = "";
    const h = this.exec(exportLines(vars), {}, { stdout: () => {}, stderr: (b) => (stderr += b.toString()) });
    const o = await h.done;
    if (o.exitCode !== 0) {
      throw new AtollError(ErrorCode.COMMAND_EXECUTION_ERROR, `Cannot set environment variables: ${stderr.trim() || `exit ${o.exitCode}`}`, { sessionId: this.id });
    }
  }

  /** Kills the shell and its running command but keeps the session (the next command gets a fresh
   *  shell that restores the state); resolves with 1 if there was a live shell. */
  async killShell(): Promise<number> {
    const sh = this.shell;
    if (!sh || !sh.alive) return 0;
    await sh.destroy();
    if (this.job) this.job.spared = true;
    return 1;
  }

  async destroy(): Promise<void> {
    this.deleted = true;
    if (this.shell) await this.shell.destroy();
    if (this.job) {
      // also what outlived a shell that died earlier
      this.job.spared = false;
      await this.job.kill();
      this.job.remove();
    }
  }
}
