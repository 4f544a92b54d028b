// Thin wrapper over the OCI runtime CLI (crun by default, runc as fallback). No daemon: each call is
// one short-lived process; containers are detached and their state lives under --root.
import { openSync, closeSync, rmdirSync } from "node:fs";
import { run, type RunResult } from "./exec.js";

export interface ContainerState {
  status: "created" | "running" | "paused" | "stopped" | string;
  pid: number;
}

export class OciRuntime {
  constructor(
    readonly bin: string,
    readonly root: string,
  ) {}

  /** Removes the state root when no container is left in it (the runtime recreates it on demand). */
  removeRootIfEmpty(): void {
    try { rmdirSync(this.root); } catch { /* not empty or gone */ }
  }

  private cmd(args: string[], allowFail = false, timeoutMs?: number): Promise<RunResult> {
    return run(this.bin, ["--root", this.root, ...args], { allowFail, timeoutMs });
  }

  /**
   * Creates the container (namespaces and mounts ready, user process not started yet); its
   * stdout/stderr and the runtime's own errors go to logFile. start() then runs the process.
   */
  async create(name: string, bundle: string, logFile: string, pidFile: string): Promise<RunResult> {
    const fd = openSync(logFile, "a", 0o600);
    try {
      return await run(this.bin, ["--root", this.root, "create", "--bundle", bundle, "--pid-file", pidFile, name], {
        stdio: ["ignore", fd, fd],
        allowFail: true,
        timeoutMs: 30_000,
      });
    } finally {
      closeSync(fd);
    }
  }

  start(name: string): Promise<RunResult> { return this.cmd(["start", name], true); }

  async state(name: string): Promise<ContainerState | undefined> {
    const r = await this.cmd(["state", name], true);
    if (r.code !== 0) return undefined;
    try {
      const j = JSON.parse(r.stdout) as { status: string; pid: number };
      return { status: j.status, pid: j.pid };
    } catch {
      return undefined;
    }
  }

  /** Names of every container under this root. */
  async list(): Promise<{ id: string; status: string; pid: number }[]> {
    const r = await this.cmd(["list", "-f", "json"], true);
    if (r.code !== 0) return [];
    try {
      return (JSON.parse(r.stdout || "[]") as { id: string; status: string; pid: number }[]) ?? [];
    } catch {
      return [];
    }
  }

  /**
   * Kills everything and removes the container. Idempotent. `beforeRetry` runs when a delete left
   * the container (its processes killed by then, maybe still exiting), before the next attempt.
   */
  async remove(name: string, beforeRetry?: () => void | Promise<void>): Promise<void> {
    await this.cmd(["delete", "--force", name], true);
    // runc may need the explicit kill first when delete --force races with a paused cgroup, and
    // either runtime fails to remove a cgroup whose tasks are still exiting on a loaded host
    for (let i = 0; i < 3 && (await this.state(name)); i++) {
      await this.cmd(["kill", "--all", name, "KILL"], true);
      await beforeRetry?.();
      await this.cmd(["delete", "--force", name], true);
    }
  }

  /** Sends a signal to every process of the container. */
  signalAll(name: string, sig: string): Promise<RunResult> { return this.cmd(["kill", "--all", name, sig], true); }

  pause(name: string): Promise<RunResult> { return this.cmd(["pause", name]); }
  resume(name: string): Promise<RunResult> { return this.cmd(["resume", name]); }

  /** Runs a command inside the container (tests, diagnostics). */
  exec(name: string, args: string[], allowFail = true, timeoutMs = 30_000): Promise<RunResult> {
    return this.cmd(["exec", name, ...args], allowFail, timeoutMs);
  }
}
