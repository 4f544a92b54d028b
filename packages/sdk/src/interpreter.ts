// Code interpreter: /api/contexts and /api/execute/code (SSE). runCode assembles the
// Cloudflare ExecutionResult shape; callbacks fire as events arrive.
import { ErrorCode, isErrorCode, type ContextCreateResult, type ContextInfo, type ExecuteCodeEvent, type ResultEvent } from "@atoll/protocol";
import type { Ctx } from "./core.js";
import { sdkError } from "./errors.js";
import { parseSSEStream } from "./sse.js";

export type Language = "python" | "javascript" | "typescript";

export interface CreateContextOptions {
  language?: Language;
  cwd?: string;
  envVars?: Record<string, string>;
  /** Default execution timeout (ms) for runs in this context. */
  timeout?: number;
}

export interface CodeContext {
  readonly id: string;
  readonly language: string;
  readonly cwd: string;
  readonly createdAt: Date;
  readonly lastUsed: Date;
}

export interface OutputMessage {
  text: string;
  timestamp: number;
}

export interface ChartData {
  type: "line" | "bar" | "scatter" | "pie" | "histogram" | "heatmap" | "unknown";
  title?: string;
  data: unknown;
  layout?: unknown;
  config?: unknown;
  library?: "matplotlib" | "plotly" | "altair" | "seaborn" | "unknown";
  image?: string;
}

export interface ResultData {
  text?: string;
  html?: string;
  png?: string;
  jpeg?: string;
  svg?: string;
  latex?: string;
  markdown?: string;
  javascript?: string;
  json?: unknown;
  chart?: ChartData;
  data?: unknown;
}

/** A rich result (as passed to onResult): the data plus formats(). */
export interface Result extends ResultData {
  formats(): string[];
}

export interface ExecutionError {
  name: string;
  message: string;
  traceback: string[];
  lineNumber?: number;
}

export interface ExecutionResult {
  code: string;
  logs: { stdout: string[]; stderr: string[] };
  error?: ExecutionError;
  executionCount?: number;
  results: ResultData[];
}

export interface RunCodeOptions {
  context?: CodeContext;
  language?: Language;
  envVars?: Record<string, string>;
  timeout?: number;
  signal?: AbortSignal;
  onStdout?: (output: OutputMessage) => void | Promise<void>;
  onStderr?: (output: OutputMessage) => void | Promise<void>;
  onResult?: (result: Result) => void | Promise<void>;
  onError?: (error: ExecutionError) => void | Promise<void>;
}

const FIELDS = ["text", "html", "png", "jpeg", "svg", "latex", "markdown", "javascript", "json", "chart", "data"] as const;

function toResult(ev: ResultEvent & { chart?: ChartData }): Result {
  const src = ev as unknown as Record<string, unknown>;
  const data: ResultData = {};
  for (const f of FIELDS) if (src[f] !== undefined) (data as Record<string, unknown>)[f] = src[f];
  return Object.defineProperty({ ...data }, "formats", { value: () => FIELDS.filter((f) => data[f] !== undefined), enumerable: false }) as Result;
}

function toContext(c: { id?: string; contextId?: string; language: string; cwd?: string; createdAt?: string; lastUsed?: string; timestamp?: string }): CodeContext {
  const at = c.createdAt ?? c.timestamp ?? new Date().toISOString();
  return { id: (c.id ?? c.contextId)!, language: c.language, cwd: c.cwd ?? "/workspace", createdAt: new Date(at), lastUsed: new Date(c.lastUsed ?? at) };
}

export async function createCodeContext(ctx: Ctx, options: CreateContextOptions = {}): Promise<CodeContext> {
  const body = { language: options.language ?? "python", cwd: options.cwd ?? "/workspace", ...(options.envVars && { env_vars: options.envVars }), ...(options.timeout !== undefined && { timeout: options.timeout }) };
  const r = await ctx.core.apiJson<ContextCreateResult>("/contexts", { method: "POST", body, what: "create code context" });
  return toContext(r);
}

export async function listCodeContexts(ctx: Ctx): Promise<CodeContext[]> {
  const r = await ctx.core.apiJson<{ contexts: ContextInfo[] }>("/contexts", { what: "list code contexts" });
  return r.contexts.map(toContext);
}

export async function deleteCodeContext(ctx: Ctx, contextId: string): Promise<void> {
  await ctx.core.apiJson(`/contexts/${encodeURIComponent(contextId)}`, { method: "DELETE", what: `delete code context ${contextId}` });
}

/** Raw SSE stream of ExecuteCodeEvent objects. Without a context the language's default context is used. */
export async function runCodeStream(ctx: Ctx, code: string, options: RunCodeOptions = {}): Promise<ReadableStream<Uint8Array>> {
  const body = {
    code,
    ...(options.context ? { context_id: options.context.id } : { language: options.language ?? "python" }),
    ...(options.timeout !== undefined && { timeout_ms: options.timeout }),
    ...(options.envVars && { env_vars: options.envVars }),
  };
  const res = await ctx.core.api("/execute/code", { method: "POST", body, signal: options.signal, headers: { accept: "text/event-stream" }, what: "run code" });
  if (!res.body) throw sdkError(ErrorCode.CODE_EXECUTION_ERROR, "Cannot run code: the response has no body", {});
  return res.body;
}

/** Runs code and returns its ExecutionResult (stdout/stderr lines, rich results, error). */
export async function runCode(ctx: Ctx, code: string, options: RunCodeOptions = {}): Promise<ExecutionResult> {
  const out: ExecutionResult = { code, logs: { stdout: [], stderr: [] }, results: [] };
  const stream = await runCodeStream(ctx, code, options);
  for await (const ev of parseSSEStream<ExecuteCodeEvent>(stream, options.signal)) {
    switch (ev.type) {
      case "stdout":
        out.logs.stdout.push(ev.text);
        await options.onStdout?.({ text: ev.text, timestamp: ev.timestamp });
        break;
      case "stderr":
        out.logs.stderr.push(ev.text);
        await options.onStderr?.({ text: ev.text, timestamp: ev.timestamp });
        break;
      case "result": {
        const r = toResult(ev);
        out.results.push({ ...r });
        await options.onResult?.(r);
        break;
      }
      case "error": {
        // An error with a registry code is the interpreter's own failure, not the user's code.
        if (ev.code && isErrorCode(ev.code)) throw sdkError(ev.code, `Cannot run code: ${ev.evalue || ev.ename}`, { ename: ev.ename });
        const err: ExecutionError = { name: ev.ename || "Error", message: ev.evalue ?? "", traceback: ev.traceback ?? [], ...(ev.lineNumber !== undefined && { lineNumber: ev.lineNumber }) };
        out.error = err;
        await options.onError?.(err);
        break;
      }
      case "execution_complete":
        out.executionCount = ev.execution_count;
        return out;
    }
  }
  return out;
}
