// exec (buffered or streamed with callbacks) and execStream (raw SSE) — /api/execute[/stream].
// Atoll honours timeout, env and cwd; an AbortSignal cancels the command and its stream.
import { ErrorCode, isErrorCode, type ExecEvent, type ExecResult, type ExecuteRequest } from "@atoll/protocol";
import { withSession, type Ctx } from "./core.js";
import { sdkError } from "./errors.js";
import { parseSSEStream } from "./sse.js";

export type { ExecEvent, ExecResult };

export interface BaseExecOptions {
  /** Kill the command after this many milliseconds. */
  timeout?: number;
  /** Extra environment variables for this command only. */
  env?: Record<string, string>;
  /** Working directory for this command only. */
  cwd?: string;
  /** Accepted for compatibility; output is UTF-8. */
  encoding?: string;
}

export interface ExecOptions extends BaseExecOptions {
  /** Stream output through onOutput while the command runs. */
  stream?: boolean;
  onOutput?: (stream: "stdout" | "stderr", data: string) => void;
  onComplete?: (result: ExecResult) => void;
  onError?: (error: Error) => void;
  /** Aborting cancels the command (the agent kills it) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface StreamOptions extends BaseExecOptions {
  bufferSize?: number;
  signal?: AbortSignal;
}

function requestBody(ctx: Ctx, command: string, o: BaseExecOptions): ExecuteRequest {
  if (typeof command !== "string" || command.length === 0) {
    throw sdkError(ErrorCode.INVALID_COMMAND, "Cannot run command: command must be a non-empty string", {});
  }
  return withSession(ctx, {
    command,
    ...(o.timeout !== undefined && { timeoutMs: o.timeout }),
    ...(o.env && { env: o.env }),
    ...(o.cwd && { cwd: o.cwd }),
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Runs a command to completion. With `stream: true` output is delivered through onOutput as it comes. */
export async function exec(ctx: Ctx, command: string, opts: ExecOptions = {}): Promise<ExecResult> {
  try {
    if (opts.signal?.aborted) throw abortReason(opts.signal);
    // Aborting closes the request; the agent kills a command whose client went away.
    const result = opts.stream || opts.onOutput ? await execStreaming(ctx, command, opts) : await execBuffered(ctx, command, opts);
    opts.onComplete?.(result);
    return result;
  } catch (e) {
    opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}

async function execBuffered(ctx: Ctx, command: string, opts: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  const r = await ctx.core.apiJson<Partial<ExecResult>>("/execute", { method: "POST", body: requestBody(ctx, command, opts), signal: opts.signal, what: "run command" });
  return {
    success: r.success ?? r.exitCode === 0,
    exitCode: r.exitCode ?? -1,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    command: r.command ?? command,
    duration: r.duration ?? Date.now() - started,
    timestamp: r.timestamp ?? new Date(started).toISOString(),
    sessionId: r.sessionId ?? ctx.sessionId,
    ...(r.timedOut !== undefined && { timedOut: r.timedOut }),
  };
}

async function execStreaming(ctx: Ctx, command: string, opts: ExecOptions): Promise<ExecResult> {
  const started = Date.now();
  const timestamp = new Date(started).toISOString();
  const stream = await execStream(ctx, command, opts);
  let stdout = "";
  let stderr = "";
  for await (const ev of parseSSEStream<ExecEvent>(stream, opts.signal)) {
    switch (ev.type) {
      case "stdout":
      case "stderr":
        if (ev.type === "stdout") stdout += ev.data;
        else stderr += ev.data;
        opts.onOutput?.(ev.type, ev.data);
        break;
      case "complete": {
        const exitCode = ev.exitCode ?? ev.result?.exitCode ?? -1;
        const timedOut = ev.timedOut ?? ev.result?.timedOut;
        return {
          success: exitCode === 0,
          exitCode,
          stdout,
          stderr,
          command,
          duration: (ev as { duration?: number }).duration ?? ev.result?.duration ?? Date.now() - started,
          timestamp,
          sessionId: ctx.sessionId ?? ev.result?.sessionId,
          ...(timedOut !== undefined && { timedOut }),
        };
      }
      case "error":
        throw sdkError(isErrorCode(ev.code) ? ev.code : ErrorCode.COMMAND_EXECUTION_ERROR, `Cannot run command: ${ev.error}`, { command });
    }
  }
  if (opts.signal?.aborted) throw abortReason(opts.signal);
  throw sdkError(ErrorCode.COMMAND_EXECUTION_ERROR, "Cannot run command: the output stream ended before the command completed", { command });
}

/** Starts a command and returns its raw SSE stream (ExecEvent objects; parse with parseSSEStream). */
export async function execStream(ctx: Ctx, command: string, opts: StreamOptions = {}): Promise<ReadableStream<Uint8Array>> {
  if (opts.signal?.aborted) throw abortReason(opts.signal);
  const res = await ctx.core.api("/execute/stream", { method: "POST", body: requestBody(ctx, command, opts), signal: opts.signal, headers: { accept: "text/event-stream" }, what: "stream command" });
  if (!res.body) throw sdkError(ErrorCode.STREAM_START_ERROR, "Cannot stream command: the response has no body", { command });
  return res.body;
}
