// The agent's code contexts: creation (taking a pre-warmed executor when one is ready), lookup,
// per-language default contexts for runs that name none, deletion, and the pre-warm pool.
import { existsSync } from "node:fs";
import { AtollError, ErrorCode, type InterpreterHealthResult, type InterpreterLanguage } from "@atoll/protocol";
import { CodeContext, kindOf } from "./context.js";
import { Executor } from "./executor.js";
import type { ExecutorKind } from "./runtime-paths.js";

export const MAX_CONTEXTS = Number(process.env.ATOLL_INTERPRETER_MAX_CONTEXTS ?? 32);

export interface CreateOptions {
  language: InterpreterLanguage;
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

type PrewarmState = InterpreterHealthResult["prewarm"][string];

export function defaultCwd(): string {
  if (process.env.ATOLL_WORKSPACE) return process.env.ATOLL_WORKSPACE;
  return existsSync("/workspace") ? "/workspace" : process.cwd();
}

export class InterpreterManager {
  private contexts = new Map<string, CodeContext>();
  private defaults = new Map<InterpreterLanguage, Promise<CodeContext>>();
  private spares = new Map<ExecutorKind, Executor>();
  readonly prewarmState: Record<string, PrewarmState> = {};
  private prewarmDone: () => void = () => {};
  /** Resolves when the current pre-warm queue has finished (each spare ready or failed). */
  whenPrewarmed: Promise<void> = Promise.resolve();

  /** Starts one idle executor per kind, one after the other (less CPU contention inside the
   *  sandbox's quota), so the first context of that kind skips the start-up. */
  prewarm(kinds: ExecutorKind[]): void {
    if (!this.prewarmPending) {
      this.prewarmPending = true;
      this.whenPrewarmed = new Promise<void>((r) => (this.prewarmDone = () => ((this.prewarmPending = false), r())));
    }
    this.prewarmNext(kinds);
  }

  private prewarmPending = false;

  private prewarmNext(kinds: ExecutorKind[]): void {
    const [kind, ...rest] = kinds;
    for (const k of kinds) this.prewarmState[nameOf(k)] ??= { state: "queued" };
    if (!kind) return this.prewarmDone();
    const next = () => this.prewarmNext(rest);
    if (this.spares.has(kind)) return next();
    const ex = new Executor(kind);
    // A spare must not keep a process (e.g. a test) alive on its own.
    ex.proc.unref();
    for (const s of ex.proc.stdio) (s as { unref?: () => void } | null)?.unref?.();
    this.spares.set(kind, ex);
    const name = nameOf(kind);
    this.prewarmState[name] = { state: "starting" };
    ex.ready.then(
      () => {
        const st = this.prewarmState[name]!;
        this.prewarmState[name] = { state: st.state === "starting" ? "ready" : st.state, readyMs: round(ex.readyMs), runnerStartupMs: ex.runnerStartupMs };
        next();
      },
      (e: Error) => {
        this.prewarmState[name] = { state: "failed", error: e.message };
        if (this.spares.get(kind) === ex) this.spares.delete(kind);
        next();
      },
    );
    ex.onExit(() => this.spares.get(kind) === ex && this.spares.delete(kind));
  }

  private takeExecutor(kind: ExecutorKind): Executor {
    const spare = this.spares.get(kind);
    if (spare && !spare.exited) {
      this.spares.delete(kind);
      spare.proc.ref();
      for (const s of spare.proc.stdio) (s as { ref?: () => void } | null)?.ref?.();
      const name = nameOf(kind);
      const prev = this.prewarmState[name];
      this.prewarmState[name] = { ...prev, state: "used" } as PrewarmState;
      return spare;
    }
    return new Executor(kind);
  }

  async create(opts: CreateOptions, isDefault = false): Promise<CodeContext> {
    if (this.contexts.size >= MAX_CONTEXTS) {
      throw new AtollError(ErrorCode.LIMIT_EXCEEDED, `Cannot create context: the limit of ${MAX_CONTEXTS} contexts is reached; delete one first`, { limit: MAX_CONTEXTS });
    }
    const cwd = opts.cwd ?? defaultCwd();
    const ctx = new CodeContext(opts.language, cwd, opts.env ?? {}, opts.timeoutMs, isDefault, this.takeExecutor(kindOf(opts.language)));
    this.contexts.set(ctx.id, ctx);
    try {
      await ctx.start();
    } catch (e) {
      this.contexts.delete(ctx.id);
      ctx.destroy();
      const msg = (e as Error).message;
      if (/No such file|ENOENT|NotADirectory|ENOTDIR/.test(msg) && !/executor/.test(msg)) {
        throw new AtollError(ErrorCode.FILE_NOT_FOUND, `Cannot create context: cwd ${cwd} is not a directory (${msg})`, { cwd });
      }
      throw new AtollError(ErrorCode.CODE_EXECUTION_ERROR, `Cannot create ${opts.language} context: ${msg}`, { language: opts.language });
    }
    return ctx;
  }

  get(id: string): CodeContext {
    const ctx = this.contexts.get(id);
    if (!ctx) throw new AtollError(ErrorCode.CONTEXT_NOT_FOUND, `Cannot find context ${id}: it does not exist or was deleted`, { contextId: id });
    return ctx;
  }

  /** The default context of a language, created on first use. */
  async defaultFor(language: InterpreterLanguage): Promise<CodeContext> {
    const existing = this.defaults.get(language);
    if (existing) {
      const ctx = await existing.catch(() => undefined);
      if (ctx && !ctx.deleted) return ctx;
    }
    const p = this.create({ language }, true);
    this.defaults.set(language, p);
    p.catch(() => this.defaults.get(language) === p && this.defaults.delete(language));
    return p;
  }

  delete(id: string): void {
    const ctx = this.get(id);
    this.contexts.delete(id);
    ctx.destroy();
  }

  list(): CodeContext[] {
    return [...this.contexts.values()];
  }

  health(): InterpreterHealthResult {
    return {
      success: true,
      status: Object.values(this.prewarmState).some((s) => s.state === "failed") ? "unhealthy" : "healthy",
      timestamp: new Date().toISOString(),
      contexts: this.contexts.size,
      prewarm: { ...this.prewarmState },
    };
  }

  /** Kills every executor (tests, agent shutdown). */
  shutdown(): void {
    for (const ctx of this.contexts.values()) ctx.destroy();
    this.contexts.clear();
    this.defaults.clear();
    for (const ex of this.spares.values()) ex.kill();
    this.spares.clear();
  }
}

function nameOf(kind: ExecutorKind): string {
  return kind === "node" ? "javascript" : kind;
}

function round(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}
