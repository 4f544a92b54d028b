// Atoll: watch a path for changes (POST /api/watch, SSE). The handle is an async iterable;
// `ready` resolves once the agent has its watchers in place, so changes after it are never missed.
import { ErrorCode, isErrorCode, type WatchEvent } from "@atoll/protocol";
import { withSession, type Ctx } from "./core.js";
import { sdkError } from "./errors.js";
import { parseSSEStream } from "./sse.js";

export type { WatchEvent };

export interface WatchOptions {
  recursive?: boolean;
  includeHidden?: boolean;
  /** Aborting ends the iteration and closes the stream. */
  signal?: AbortSignal;
}

/** A file-change event other than "ready"/"error". */
export type FileChangeEvent = Exclude<WatchEvent, { type: "ready" } | { type: "error" }>;

export class WatchHandle implements AsyncIterable<FileChangeEvent> {
  /** Resolves when the watch is active; rejects if it could not start. */
  readonly ready: Promise<void>;
  private readonly ac = new AbortController();
  private readonly events: AsyncGenerator<WatchEvent>;
  private iterating = false;

  constructor(ctx: Ctx, path: string, opts: WatchOptions) {
    if (opts.signal) {
      if (opts.signal.aborted) this.ac.abort(opts.signal.reason);
      else opts.signal.addEventListener("abort", () => this.ac.abort(opts.signal!.reason), { once: true });
    }
    const signal = this.ac.signal;
    const body = withSession(ctx, { path, recursive: opts.recursive ?? false, includeHidden: opts.includeHidden ?? false });
    const started = ctx.core.api("/watch", { method: "POST", body, signal, headers: { accept: "text/event-stream" }, what: `watch ${path}` });
    const events = (async function* () {
      const res = await started;
      if (!res.body) throw sdkError(ErrorCode.STREAM_START_ERROR, `Cannot watch ${path}: the response has no body`, { path });
      yield* parseSSEStream<WatchEvent>(res.body, signal);
    })();
    this.events = events;
    // Pull events until "ready"; the iterator hands out everything after it.
    this.ready = (async () => {
      for (;;) {
        const r = await events.next();
        if (r.done) throw sdkError(ErrorCode.STREAM_START_ERROR, `Cannot watch ${path}: the stream ended before it was ready`, { path });
        if (r.value.type === "ready") return;
        if (r.value.type === "error") throw sdkError(isErrorCode(r.value.code) ? r.value.code : ErrorCode.FILESYSTEM_ERROR, `Cannot watch ${path}: ${r.value.error}`, { path });
      }
    })();
    this.ready.catch(() => {}); // surfaced through iteration too
  }

  /** Stops watching. */
  close(): void {
    this.ac.abort(new DOMException("watch closed", "AbortError"));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FileChangeEvent> {
    if (this.iterating) throw new Error("Cannot iterate a watch twice");
    this.iterating = true;
    try {
      await this.ready;
      for (;;) {
        let r: IteratorResult<WatchEvent>;
        try {
          r = await this.events.next();
        } catch (e) {
          if (this.ac.signal.aborted) return; // close() or the caller's signal: a normal end
          throw e;
        }
        if (r.done) return;
        const ev = r.value;
        if (ev.type === "error") throw sdkError(isErrorCode(ev.code) ? ev.code : ErrorCode.FILESYSTEM_ERROR, `Cannot keep watching: ${ev.error}`, {});
        if (ev.type !== "ready") yield ev;
      }
    } finally {
      this.close();
    }
  }
}

export function watch(ctx: Ctx, path: string, opts: WatchOptions = {}): WatchHandle {
  return new WatchHandle(ctx, path, opts);
}
