// Background processes: /api/process/*. startProcess returns a Process handle with
// kill/getStatus/getLogs and readiness waits (waitForExit, waitForLog, waitForPort).
import { ErrorCode, type ProcessInfo, type ProcessLogEvent, type ProcessStatus, type StartProcessRequest } from "@atoll/protocol";
import { withSession, type Ctx } from "./core.js";
import { SandboxError, sdkError } from "./errors.js";
import type { BaseExecOptions } from "./exec.js";
import { parseSSEStream } from "./sse.js";
import { waitForPort, type WaitForPortOptions } from "./wait-port.js";

export type { ProcessStatus, ProcessLogEvent };

export interface ProcessOptions extends BaseExecOptions {
  /** Your own id for the process (otherwise the agent generates one). */
  processId?: string;
  autoCleanup?: boolean;
  onExit?: (code: number | null) => void;
  onOutput?: (stream: "stdout" | "stderr", data: string) => void;
  onStart?: (process: Process) => void;
  onError?: (error: Error) => void;
}

export interface WaitForLogResult {
  /** The line that matched (without its newline). */
  line: string;
  /** Capture groups when the pattern was a RegExp. */
  match?: RegExpMatchArray;
}

export interface WaitForExitResult {
  exitCode: number | null;
  status: ProcessStatus;
}

const TERMINAL: ReadonlySet<ProcessStatus> = new Set(["completed", "failed", "killed", "error"]);
const enc = encodeURIComponent;

/** A background process. Fields are a snapshot; getStatus() refreshes them. */
export class Process {
  readonly id: string;
  readonly command: string;
  pid?: number;
  status: ProcessStatus;
  startTime: Date;
  endTime?: Date;
  exitCode?: number;
  sessionId?: string;

  constructor(
    private readonly ctx: Ctx,
    info: ProcessInfo,
  ) {
    this.id = info.id;
    this.command = info.command;
    this.status = info.status;
    this.startTime = new Date(info.startTime);
    this.update(info);
  }

  private update(info: ProcessInfo): void {
    this.pid = info.pid ?? this.pid;
    this.status = info.status;
    this.endTime = info.endTime ? new Date(info.endTime) : undefined;
    this.exitCode = info.exitCode ?? undefined;
    this.sessionId = info.sessionId ?? this.ctx.sessionId;
  }

  /** Sends a signal (default SIGTERM). */
  kill(signal?: string): Promise<void> {
    return killProcess(this.ctx, this.id, signal);
  }

  /** Fetches the current status (and refreshes this object's fields). */
  async getStatus(): Promise<ProcessStatus> {
    const info = await fetchProcess(this.ctx, this.id);
    if (!info) return "error";
    this.update(info);
    return info.status;
  }

  async getLogs(): Promise<{ stdout: string; stderr: string }> {
    const l = await getProcessLogs(this.ctx, this.id);
    return { stdout: l.stdout, stderr: l.stderr };
  }

  /** Resolves when the process ends; rejects with COMMAND_TIMEOUT after `timeout` ms. */
  async waitForExit(timeout?: number): Promise<WaitForExitResult> {
    return withDeadline(timeout, `wait for process ${this.id} to exit`, ErrorCode.COMMAND_TIMEOUT, async (signal) => {
      // GET /api/process/:id/wait holds the request until the process ends (or its own timeout).
      for (;;) {
        const r = await this.ctx.core.apiJson<{ process: ProcessInfo; done: boolean }>(`/process/${enc(this.id)}/wait?timeoutMs=30000`, { signal, what: `wait for process ${this.id}` });
        this.update(r.process);
        if (r.done || TERMINAL.has(r.process.status)) return { exitCode: this.exitCode ?? null, status: this.status };
      }
    });
  }

  /**
   * Resolves with the first output line matching `pattern` (output already logged counts).
   * Rejects with PROCESS_EXITED_BEFORE_READY or PROCESS_READY_TIMEOUT.
   */
  async waitForLog(pattern: string | RegExp, options?: number | { timeout?: number }): Promise<WaitForLogResult> {
    const timeout = typeof options === "number" ? options : options?.timeout;
    return withDeadline(timeout, `wait for ${String(pattern)} in the output of process ${this.id}`, ErrorCode.PROCESS_READY_TIMEOUT, async (signal) => {
      const test = (line: string): WaitForLogResult | null => {
        if (typeof pattern === "string") return line.includes(pattern) ? { line } : null;
        pattern.lastIndex = 0;
        const m = line.match(pattern);
        return m ? { line, match: m } : null;
      };
      const partial = { stdout: "", stderr: "" };
      const stream = await streamProcessLogs(this.ctx, this.id, { signal });
      for await (const ev of parseSSEStream<ProcessLogEvent>(stream, signal)) {
        if (ev.type === "stdout" || ev.type === "stderr") {
          const lines = (partial[ev.type] + ev.data).split("\n");
          partial[ev.type] = lines.pop() ?? "";
          for (const l of lines) {
            const r = test(l.replace(/\r$/, ""));
            if (r) return r;
          }
          const r = partial[ev.type] ? test(partial[ev.type]) : null; // unterminated last line
          if (r) return r;
        } else if (ev.type === "exit") {
          this.status = ev.status;
          this.exitCode = ev.exitCode;
          throw sdkError(ErrorCode.PROCESS_EXITED_BEFORE_READY, `Cannot wait for ${String(pattern)}: process ${this.id} exited (code ${ev.exitCode ?? "none"}) before printing it`, { processId: this.id, exitCode: ev.exitCode, pattern: String(pattern) });
        }
      }
      throw sdkError(ErrorCode.PROCESS_EXITED_BEFORE_READY, `Cannot wait for ${String(pattern)}: the output of process ${this.id} ended without it`, { processId: this.id, pattern: String(pattern) });
    });
  }

  /** Resolves when `port` answers inside the sandbox (HTTP status check by default, or TCP connect). */
  async waitForPort(port: number, options: WaitForPortOptions = {}): Promise<void> {
    await waitForPort(this.ctx, port, options, async () => {
      const s = await this.getStatus();
      return TERMINAL.has(s) ? { exited: true, exitCode: this.exitCode } : { exited: false };
    });
  }

  toJSON() {
    const { id, pid, command, status, startTime, endTime, exitCode, sessionId } = this;
    return { id, pid, command, status, startTime, endTime, exitCode, sessionId };
  }
}

function notFound(id: string): SandboxError {
  return sdkError(ErrorCode.PROCESS_NOT_FOUND, `Cannot find process ${id}: no such process in this sandbox`, { processId: id });
}

/** Runs fn with an AbortSignal that fires after `timeout` ms; maps that to a registry error. */
async function withDeadline<T>(timeout: number | undefined, what: string, code: ErrorCode, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const timer = timeout !== undefined ? setTimeout(() => ac.abort(sdkError(code, `Cannot ${what}: timed out after ${timeout} ms`, { timeout })), timeout) : undefined;
  try {
    return await fn(ac.signal);
  } catch (e) {
    if (ac.signal.aborted) throw ac.signal.reason;
    throw e;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function startProcess(ctx: Ctx, command: string, opts: ProcessOptions = {}): Promise<Process> {
  try {
    const body: StartProcessRequest = withSession(ctx, {
      command,
      ...(opts.processId && { processId: opts.processId }),
      ...(opts.timeout !== undefined && { timeoutMs: opts.timeout }),
      ...(opts.env && { env: opts.env }),
      ...(opts.cwd && { cwd: opts.cwd }),
      ...(opts.encoding && { encoding: opts.encoding }),
      ...(opts.autoCleanup !== undefined && { autoCleanup: opts.autoCleanup }),
    });
    const r = await ctx.core.apiJson<{ processId: string; pid?: number; command?: string; timestamp?: string }>("/process/start", { method: "POST", body, what: "start process" });
    const proc = new Process(ctx, { id: r.processId, pid: r.pid, command: r.command ?? command, status: "running", startTime: r.timestamp ?? new Date().toISOString(), sessionId: ctx.sessionId });
    opts.onStart?.(proc);
    if (opts.onOutput || opts.onExit) followProcess(ctx, proc.id, opts);
    return proc;
  } catch (e) {
    opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}

/** Delivers a process's output and exit to the callbacks, in the background. */
function followProcess(ctx: Ctx, id: string, opts: ProcessOptions): void {
  void (async () => {
    const stream = await streamProcessLogs(ctx, id);
    for await (const ev of parseSSEStream<ProcessLogEvent>(stream)) {
      if (ev.type === "stdout" || ev.type === "stderr") opts.onOutput?.(ev.type, ev.data);
      else if (ev.type === "exit") {
        opts.onExit?.(ev.exitCode ?? null);
        return;
      } else if (ev.type === "error") throw sdkError(ErrorCode.PROCESS_ERROR, `Cannot follow process ${id}: ${ev.error}`, { processId: id });
    }
  })().catch((e) => opts.onError?.(e instanceof Error ? e : new Error(String(e))));
}

/** The process's info, or null when the agent does not know it. */
async function fetchProcess(ctx: Ctx, id: string): Promise<ProcessInfo | null> {
  try {
    const r = await ctx.core.apiJson<{ process?: ProcessInfo }>(`/process/${enc(id)}`, { what: `get process ${id}` });
    return r.process ?? null;
  } catch (e) {
    if (e instanceof SandboxError && e.code === ErrorCode.PROCESS_NOT_FOUND) return null;
    throw e;
  }
}

export async function getProcess(ctx: Ctx, id: string): Promise<Process | null> {
  const info = await fetchProcess(ctx, id);
  return info ? new Process(ctx, info) : null;
}

export async function listProcesses(ctx: Ctx): Promise<Process[]> {
  const r = await ctx.core.apiJson<{ processes: ProcessInfo[] }>("/process/list", { what: "list processes" });
  return r.processes.map((p) => new Process(ctx, p));
}

export async function killProcess(ctx: Ctx, id: string, signal?: string): Promise<void> {
  const q = signal ? `?signal=${enc(signal)}` : "";
  await ctx.core.apiJson(`/process/${enc(id)}${q}`, { method: "DELETE", what: `kill process ${id}` });
}

/** Options of killAllProcesses (Atoll). */
export interface KillAllOptions {
  /**
   * Kill everything in the sandbox except its agent: besides the processes and the leftovers of
   * finished commands, also the sessions' shells and running commands, code-interpreter executors
   * and the template's startup command. Sessions and code contexts stay usable (fresh shell or
   * executor on next use; shell state is restored, interpreter state is lost).
   */
  everything?: boolean;
}

/**
 * Kills every running process and every leftover of finished commands and processes (including
 * `setsid`/double-forked ones); resolves with how many processes were still running.
 */
export async function killAllProcesses(ctx: Ctx, options: KillAllOptions = {}): Promise<number> {
  const q = options.everything ? "?everything=1" : "";
  const r = await ctx.core.apiJson<{ cleanedCount?: number; killedCount?: number }>(`/process/kill-all${q}`, { method: "DELETE", what: "kill all processes" });
  return r.cleanedCount ?? r.killedCount ?? 0;
}

export async function cleanupCompletedProcesses(ctx: Ctx): Promise<number> {
  const r = await ctx.core.apiJson<{ cleanedCount?: number }>("/process/cleanup", { method: "POST", body: {}, what: "clean up completed processes" });
  return r.cleanedCount ?? 0;
}

export async function getProcessLogs(ctx: Ctx, id: string): Promise<{ stdout: string; stderr: string; processId: string }> {
  const r = await ctx.core.apiJson<{ stdout: string; stderr: string; processId?: string }>(`/process/${enc(id)}/logs`, { what: `get logs of process ${id}` });
  return { stdout: r.stdout, stderr: r.stderr, processId: r.processId ?? id };
}

/** Raw SSE stream of a process's output (ProcessLogEvent objects); buffered output is replayed first. */
export async function streamProcessLogs(ctx: Ctx, id: string, opts: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
  const res = await ctx.core.api(`/process/${enc(id)}/stream`, { signal: opts.signal, headers: { accept: "text/event-stream" }, what: `stream logs of process ${id}` });
  if (!res.body) throw sdkError(ErrorCode.STREAM_START_ERROR, `Cannot stream logs of process ${id}: the response has no body`, { processId: id });
  return res.body;
}
