// A code context: one language, one executor process holding its state, runs one at a time in
// arrival order. Timeouts and aborts interrupt the run (SIGINT); code that ignores the interrupt
// for INTERRUPT_GRACE_MS gets its executor killed and replaced (state lost, reported as an error).
import { randomUUID } from "node:crypto";
import type { ExecuteCodeEvent, InterpreterLanguage, ContextInfo } from "@atoll/protocol";
import { Executor, ExecutorExitedError, type RunnerEvent } from "./executor.js";
import { toWireEvent } from "./events.js";
import type { ExecutorKind } from "./runtime-paths.js";

export const INTERRUPT_GRACE_MS = Number(process.env.ATOLL_INTERPRETER_INTERRUPT_GRACE_MS ?? 2000);

export function kindOf(lang: InterpreterLanguage): ExecutorKind {
  return lang === "python" ? "python" : "node";
}

export interface RunOptions {
  timeoutMs?: number;
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Receives each wire event; returning false asks for flow control until `drained` fires. */
  emit: (e: ExecuteCodeEvent) => boolean;
  waitDrain: () => Promise<void>;
}

export class CodeContext {
  readonly id = randomUUID();
  readonly createdAt = new Date();
  lastUsed = new Date();
  executionCount = 0;
  private executor: Executor | null;
  private tail: Promise<void> = Promise.resolve();
  private running = false;
  deleted = false;

  constructor(
    readonly language: InterpreterLanguage,
    readonly cwd: string,
    readonly env: Record<string, string>,
    readonly defaultTimeoutMs: number | undefined,
    readonly isDefault: boolean,
    executor: Executor,
  ) {
    this.executor = executor;
  }

  /** Waits until the executor is up and configured with this context's cwd and env. */
  async start(): Promise<void> {
    await this.executor!.configure(this.cwd, this.env);
  }

  info(): ContextInfo {
    return {
      id: this.id,
      language: this.language,
      cwd: this.cwd,
      createdAt: this.createdAt.toISOString(),
      lastUsed: this.lastUsed.toISOString(),
      executionCount: this.executionCount,
      busy: this.running,
      isDefault: this.isDefault,
    };
  }

  destroy(): void {
    this.deleted = true;
    this.executor?.kill();
    this.executor = null;
  }

  /** Queues a run behind earlier ones. Resolves when the run's last event has been emitted. */
  run(code: string, opts: RunOptions): Promise<void> {
    const p = this.tail.then(() => this.runNow(code, opts));
    this.tail = p.catch(() => {});
    return p;
  }

  private async liveExecutor(): Promise<Executor> {
    if (!this.executor || this.executor.exited) {
      this.executor?.kill(); // leftovers of the dead executor's process group
      this.executor = new Executor(kindOf(this.language));
      await this.executor.configure(this.cwd, this.env);
    }
    return this.executor;
  }

  private async runNow(code: string, opts: RunOptions): Promise<void> {
    if (opts.signal.aborted || this.deleted) return;
    this.running = true;
    this.lastUsed = new Date();
    const count = ++this.executionCount;
    const started = performance.now();
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    let timedOut = false;
    let interrupted = false;
    let killed = false;
    let sawError = false;
    const timers: NodeJS.Timeout[] = [];
    let ex: Executor | undefined;
    const stop = (why: "timeout" | "abort") => {
      if (timedOut || interrupted) return;
      if (why === "timeout") timedOut = true;
      else interrupted = true;
      ex?.interrupt();
      timers.push(setTimeout(() => ((killed = true), ex?.kill()), INTERRUPT_GRACE_MS));
    };
    const onAbort = () => stop("abort");
    opts.signal.addEventListener("abort", onAbort);
    let flow = Promise.resolve();
    const send = (e: ExecuteCodeEvent) => {
      if (!opts.emit(e) && ex) {
        const paused = ex;
        paused.pause();
        flow = opts.waitDrain().then(() => paused.resume());
      }
    };
    try {
      ex = await this.liveExecutor();
      if (opts.signal.aborted) return;
      // The timeout covers the run itself, not a (re)start of the executor.
      // setTimeout fires at once beyond 2^31-1 ms: longer timeouts are as good as none.
      if (timeoutMs && timeoutMs > 0 && timeoutMs <= 2_147_483_647) timers.push(setTimeout(() => stop("timeout"), timeoutMs));
      await ex.exec(code, this.language, opts.env, (re: RunnerEvent) => {
        if (re.ev === "error") {
          sawError = true;
          // The interrupt we caused is reported as the timeout below, not as the user's error.
          if (timedOut && (re.ename === "KeyboardInterrupt" || re.ename === "Interrupted")) {
            send(timeoutError(timeoutMs!, re.traceback ?? []));
            return;
          }
        }
        const w = toWireEvent(re, count);
        if (w) send(w);
      });
      if (timedOut && !sawError) send(timeoutError(timeoutMs!, []));
    } catch (e) {
      if (e instanceof ExecutorExitedError) {
        const why = this.deleted
          ? "Cannot finish the run: the context was deleted"
          : killed
            ? `Cannot interrupt the running code: it ignored the interrupt for ${INTERRUPT_GRACE_MS} ms, so the ${this.language} process was killed`
            : `Cannot finish the run: the ${this.language} process exited (${e.signal ? `signal ${e.signal}` : `code ${e.exitCode}`})`;
        send({
          type: "error",
          ename: this.deleted ? "ContextDeleted" : timedOut ? "TimeoutError" : "ExecutorExited",
          evalue: this.deleted ? why : `${why}; the context restarts with fresh state on the next run`,
          traceback: [],
          timestamp: Date.now(),
        });
      } else {
        send({ type: "error", ename: "ExecutorError", evalue: `Cannot run code: ${(e as Error).message}`, traceback: [], timestamp: Date.now(), code: "CODE_EXECUTION_ERROR" });
      }
    } finally {
      for (const t of timers) clearTimeout(t);
      opts.signal.removeEventListener("abort", onAbort);
      await flow;
      this.running = false;
      this.lastUsed = new Date();
    }
    opts.emit({
      type: "execution_complete",
      execution_count: count,
      timestamp: Date.now(),
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
      ...(timedOut ? { timed_out: true } : {}),
      ...(interrupted ? { interrupted: true } : {}),
    });
  }
}

function timeoutError(ms: number, traceback: string[]): ExecuteCodeEvent {
  return {
    type: "error",
    ename: "TimeoutError",
    evalue: `Cannot finish the run: it exceeded its timeout of ${ms} ms and was interrupted`,
    traceback,
    timestamp: Date.now(),
  };
}
