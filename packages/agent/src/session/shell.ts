// One persistent bash fed commands on stdin. Each command is eval'd in the shell itself (so `cd`,
// `export`, functions and aliases persist), with stdin from /dev/null, followed by a per-command
// random marker carrying the exit status on stdout and stderr. After each command the shell dumps
// its exported variables, functions, aliases and cwd to a state file, which a restarted shell
// (after `exit`, a timeout or an abort) and background processes source.
// With job cgroups (process/jobs.ts) the shell lives in a cgroup of its own below its session's,
// so everything a command starts is born there and a timeout or abort kills all of it. A command
// that leaves processes behind (`&` jobs) gets the shell moved to a fresh cgroup afterwards, so
// its leftovers stay apart (kill-all reaches them, a later command's kill spares them). Moving a
// task between cgroups costs ~1-2 ms on cgroup v1 (it waits for an RCU grace period), which is why
// the shell is not moved for every command.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { bashPath } from "./bash.js";
import { MarkerScanner } from "./marker.js";
import { bashQuote, exportLines } from "./quote.js";
import { descendantsOf, killTree, signalAll, signalNumber } from "../process/tree.js";
import { oomShellLine } from "../process/oom.js";
import type { Job } from "../process/jobs.js";

/** Commands longer than this (chars) are passed through a file instead of the shell's stdin. */
const INLINE_COMMAND_MAX = 4096;

export interface CommandSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export interface RunOptions {
  /** Per-command env and cwd run the command in a subshell, so they do not leak into the session. */
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunOutcome {
  exitCode: number;
  /** The shell itself ended (e.g. `exit 3`, or it was killed): the next command gets a new one. */
  shellExited: boolean;
  /** Set when kill() ended the command. */
  killed: boolean;
}

interface Current {
  token: string;
  out: MarkerScanner;
  err: MarkerScanner;
  sink: CommandSink;
  /** Descendants of the shell before the command started (earlier `&` jobs), spared by kill(). */
  pre: Set<number>;
  /** The shell's cgroup while the command runs (job cgroups only): everything it starts is born there. */
  job: Job | null;
  killed: boolean;
  resolve(o: RunOutcome): void;
  reject(e: Error): void;
  exitCode?: number;
}

export interface ShellOptions {
  cwd: string;
  env: Record<string, string>;
  stateFile: string;
  /** Source the state file at start-up (a restarted shell). */
  restore: boolean;
  /** The session's job cgroup (null without job cgroups): the shell lives in a child of it. */
  job?: Job | null;
}

export class Shell {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  alive = true;
  private paused = false;
  private current: Current | null = null;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: Error | null = null;
  private readonly exited: Promise<void>;
  /** The cgroup the shell lives in (a child of the session's), null without job cgroups. */
  private home: Job | null = null;

  constructor(private readonly opts: ShellOptions) {
    const cwd = existsSync(opts.cwd) ? opts.cwd : "/";
    this.child = spawn(bashPath(), ["--noprofile", "--norc"], {
      cwd,
      env: opts.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.pid = this.child.pid ?? -1;
    this.moveHome(); // before the first line it reads: nothing of it runs outside the job
    this.child.stdin.on("error", () => {
      /* EPIPE after the shell died; the exit handler reports it */
    });
    this.child.stdout.on("data", (b: Buffer) => this.onData(b, false));
    this.child.stderr.on("data", (b: Buffer) => this.onData(b, true));
    this.exited = new Promise((resolve) => {
      this.child.on("error", (e) => {
        this.spawnError = e;
        this.alive = false;
        this.current?.reject(new Error(`Cannot start bash: ${e.message}`));
        this.current = null;
        resolve();
      });
      this.child.on("exit", (code, signal) => {
        this.alive = false;
        this.exitInfo = { code, signal };
        // Let the pipes drain (they close unless a background job still holds them).
        let settled = false;
        const finish = () => {
          if (settled) return;
          settled = true;
          this.finishOnExit();
          resolve();
        };
        let ends = 0;
        const onEnd = () => ++ends === 2 && finish();
        for (const st of [this.child.stdout, this.child.stderr]) {
          if (st.readableEnded) onEnd();
          else st.once("end", onEnd);
        }
        // Leftover jobs may hold the pipes open: give up waiting after 100 ms, but not while a
        // slow reader has the pipes paused (their buffered output is still the command's),
        // unless the command was killed.
        const giveUp = () => {
          if (this.paused && this.current && !this.current.killed) setTimeout(giveUp, 100).unref();
          else finish();
        };
        setTimeout(giveUp, 100).unref();
      });
    });
    // Aliases defined in one command expand in later ones, as in an interactive shell.
    // Markers go to copies of the original stdout/stderr (fds 98/99), so a command that redirects
    // its shell's output (`exec >log`, `exec 2>&1`) cannot swallow them.
    // The shell raises its own oom_score_adj first, so it and all it forks die before the agent.
    const init = [oomShellLine(), "builtin set +o history 2>/dev/null; builtin shopt -s expand_aliases; exec 98>&1 99>&2"];
    if (opts.restore) init.push(`[ -r ${bashQuote(opts.stateFile)} ] && builtin . ${bashQuote(opts.stateFile)} >/dev/null 2>&1`);
    this.child.stdin.write(init.join("\n") + "\n");
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /** Runs one command; resolves when its marker arrived on both streams or the shell ended. */
  run(command: string, o: RunOptions, sink: CommandSink): Promise<RunOutcome> {
    if (this.spawnError) return Promise.reject(new Error(`Cannot start bash: ${this.spawnError.message}`));
    if (!this.alive) return Promise.reject(new Error("Cannot run command: the shell has exited"));
    if (this.current) return Promise.reject(new Error("Cannot run command: the shell is busy"));
    const token = randomBytes(8).toString("hex");
    const job = this.home;
    return new Promise<RunOutcome>((resolve, reject) => {
      this.current = {
        token,
        out: new MarkerScanner(token),
        err: new MarkerScanner(token),
        sink,
        pre: job ? new Set() : new Set(descendantsOf(this.pid)),
        job,
        killed: false,
        resolve,
        reject,
      };
      this.child.stdin.write(this.script(command, o, token));
    });
  }

  private script(command: string, o: RunOptions, token: string): string {
    const state = bashQuote(this.opts.stateFile);
    let body: string;
    if (o.env || o.cwd) {
      const pre: string[] = [];
      if (o.cwd) pre.push(`builtin cd -- ${bashQuote(o.cwd)} || builtin exit 1`);
      if (o.env) pre.push(exportLines(o.env));
      body = `(\n${pre.join("\n")}\nbuiltin eval "$__atoll_c"\n) </dev/null`;
    } else {
      body = `builtin eval "$__atoll_c" </dev/null`;
    }
    // bash reads a pipe one byte at a time; a long command goes through a file it reads buffered.
    let load = `__atoll_c=${bashQuote(command)}`;
    if (command.length > INLINE_COMMAND_MAX) {
      const file = this.opts.stateFile + ".cmd";
      writeFileSync(file, command);
      load = `IFS= builtin read -r -d '' __atoll_c <${bashQuote(file)}`;
    }
    return [
      load,
      `builtin export ATOLL_EXEC_ID=${token}`,
      body,
      `__atoll_s=$?`,
      `builtin unset -v __atoll_c ATOLL_EXEC_ID`,
      `{ builtin export -p; builtin declare -f; builtin alias -p; builtin printf 'builtin cd -- %q\\n' "$PWD"; } >${state} 2>/dev/null`,
      `builtin printf '\\0__ATOLL_%s:%d\\0' ${token} "$__atoll_s" >&98`,
      `builtin printf '\\0__ATOLL_%s:%d\\0' ${token} "$__atoll_s" >&99`,
      "",
    ].join("\n");
  }

  private onData(b: Buffer, isErr: boolean): void {
    const c = this.current;
    if (!c) return; // output of background jobs between commands is dropped
    const r = (isErr ? c.err : c.out).push(b);
    if (r.data.length) (isErr ? c.sink.stderr : c.sink.stdout)(r.data);
    if (r.exitCode !== undefined) c.exitCode = r.exitCode;
    if (c.out.done && c.err.done) {
      this.current = null;
      this.leaveJob(c);
      c.resolve({ exitCode: c.exitCode ?? 0, shellExited: false, killed: c.killed });
    }
  }

  private finishOnExit(): void {
    const c = this.current;
    if (!c) return;
    this.current = null;
    this.leaveJob(c);
    const o = c.out.flush();
    if (o.length) c.sink.stdout(o);
    const e = c.err.flush();
    if (e.length) c.sink.stderr(e);
    const info = this.exitInfo!;
    const exitCode = c.exitCode ?? info.code ?? 128 + signalNumber(info.signal ?? "SIGKILL");
    c.resolve({ exitCode, shellExited: true, killed: c.killed });
  }

  /** Moves the (idle) shell into a fresh cgroup below the session's; the old one is no longer spared. */
  private moveHome(): void {
    const old = this.home;
    this.home = null;
    if (old) old.spared = false;
    const next = this.opts.job?.child(`x-${randomBytes(8).toString("hex")}`) ?? null;
    if (next && this.alive && this.pid > 1) {
      next.spared = true;
      if (next.adopt(this.pid)) this.home = next;
      else next.spared = false;
    }
    old?.remove(); // only if empty
  }

  /** After a command: if it left processes in the shell's cgroup, the idle shell moves out of it. */
  private leaveJob(c: Current): void {
    if (!c.job || c.job !== this.home) return;
    if (!this.alive) {
      c.job.spared = false;
      c.job.remove();
      this.home = null;
    } else if (c.job.pids().some((p) => p !== this.pid)) this.moveHome();
  }

  pause(): void {
    this.paused = true;
    this.child.stdout.pause();
    this.child.stderr.pause();
  }

  resume(): void {
    this.paused = false;
    this.child.stdout.resume();
    this.child.stderr.resume();
  }

  /**
   * Kills the running command: the shell (a builtin loop would otherwise never stop, and a
   * killed child would only let the rest of the command list run) and every process the command
   * started, including ones that left the tree; earlier `&` jobs are spared.
   */
  async killCommand(): Promise<void> {
    const c = this.current;
    if (!c || !this.alive) return;
    c.killed = true;
    if (this.pid <= 1) return;
    if (c.job) {
      // The shell and everything the command started are in the shell's cgroup (earlier `&` jobs
      // were left behind in other cgroups when their commands ended).
      await c.job.kill();
      await this.exited;
      return;
    }
    signalAll([this.pid], "SIGSTOP");
    let victims = descendantsOf(this.pid).filter((p) => !c.pre.has(p));
    signalAll(victims, "SIGSTOP");
    victims = [...new Set([...victims, ...victims.flatMap((p) => descendantsOf(p))])];
    signalAll([this.pid, ...victims], "SIGKILL");
    await killTree({ envTag: `ATOLL_EXEC_ID=${c.token}`, roots: victims }, "SIGKILL");
    await this.exited;
  }

  /** Ends the shell and everything it started (session delete, agent shutdown). */
  async destroy(): Promise<void> {
    const c = this.current;
    const tag = c ? `ATOLL_EXEC_ID=${c.token}` : undefined;
    if (c) c.killed = true;
    if (this.pid <= 1) return;
    if (this.opts.job) {
      // the session's cgroup holds the shell, its commands and their `&` jobs
      this.opts.job.spared = false;
      await this.opts.job.kill();
      this.opts.job.remove();
      await this.exited;
      return;
    }
    const roots = [this.pid, ...descendantsOf(this.pid)];
    if (this.alive) signalAll([this.pid], "SIGKILL");
    await killTree({ roots, envTag: tag }, "SIGKILL");
    await this.exited;
  }
}
