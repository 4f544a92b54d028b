// Wire types of the code interpreter (agent routes /api/contexts, /api/execute/code,
// /api/interpreter/health). Field names follow @cloudflare/sandbox 0.4.x's InterpreterClient;
// Atoll additions are marked. Pure: no I/O.

export type InterpreterLanguage = "python" | "javascript" | "typescript";

/** Accepted spellings (case-insensitive) → canonical language. */
export const LANGUAGE_ALIASES: Readonly<Record<string, InterpreterLanguage>> = {
  python: "python",
  python3: "python",
  py: "python",
  javascript: "javascript",
  js: "javascript",
  node: "javascript",
  typescript: "typescript",
  ts: "typescript",
};

export const DEFAULT_INTERPRETER_LANGUAGE: InterpreterLanguage = "python";

/** Canonical language for a spelling, or undefined when unsupported. */
export function normalizeLanguage(lang: string): InterpreterLanguage | undefined {
  return Object.prototype.hasOwnProperty.call(LANGUAGE_ALIASES, lang.toLowerCase())
    ? LANGUAGE_ALIASES[lang.toLowerCase()]
    : undefined;
}

/** POST /api/contexts. Cloudflare's client sends `env_vars`; `envVars` is accepted too. */
export interface ContextCreateRequest {
  language?: string;
  cwd?: string;
  env_vars?: Record<string, string>;
  envVars?: Record<string, string>;
  /** Atoll: default execution timeout (ms) for runs in this context. */
  timeout?: number;
}

export interface ContextCreateResult {
  success: boolean;
  contextId: string;
  language: InterpreterLanguage;
  cwd: string;
  timestamp: string;
}

export interface ContextInfo {
  id: string;
  language: InterpreterLanguage;
  cwd: string;
  /** Atoll extras. */
  createdAt: string;
  lastUsed: string;
  executionCount: number;
  busy: boolean;
  /** True for the per-language default context used when a run names none. */
  isDefault: boolean;
}

export interface ContextListResult {
  success: boolean;
  contexts: ContextInfo[];
  timestamp: string;
}

export interface ContextDeleteResult {
  success: boolean;
  contextId: string;
  timestamp: string;
}

/** POST /api/execute/code (answered with an SSE stream of ExecuteCodeEvent). */
export interface ExecuteCodeRequest {
  code: string;
  /** Without it, the default context of `language` (python when absent) is used. */
  context_id?: string;
  language?: string;
  /** Execution timeout in ms; `timeout` is accepted too. On expiry the run is interrupted. */
  timeout_ms?: number;
  timeout?: number;
  /** Atoll: environment variables for this run only. */
  env_vars?: Record<string, string>;
}

/** MIME type → flat field of a `result` event (Cloudflare's Result shape). */
export const MIME_FIELDS: Readonly<Record<string, ResultField>> = {
  "text/plain": "text",
  "text/html": "html",
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/svg+xml": "svg",
  "text/latex": "latex",
  "text/markdown": "markdown",
  "application/javascript": "javascript",
  "application/json": "json",
  /** Atoll: data of a matplotlib figure (Cloudflare's Result.chart). */
  "application/vnd.atoll.chart+json": "chart",
};

export type ResultField = "text" | "html" | "png" | "jpeg" | "svg" | "latex" | "markdown" | "javascript" | "json" | "chart";

/** Cloudflare's ChartData, as Atoll fills it from a single-axes matplotlib figure. */
export interface ChartResult {
  type: "line" | "bar" | "scatter" | "pie" | "histogram" | "heatmap" | "unknown";
  title?: string;
  library?: "matplotlib" | "plotly" | "altair" | "seaborn" | "unknown";
  /** line/scatter: elements [{label, points: [[x, y]...]}]; bar: [{label, group, value}]; pie: [{label, angle}]. */
  data: { x_label?: string; y_label?: string; elements?: unknown[]; [k: string]: unknown };
}

/** SSE events of /api/execute/code. `timestamp` is epoch milliseconds (Cloudflare's OutputMessage). */
export type ExecuteCodeEvent =
  | { type: "stdout" | "stderr"; text: string; timestamp: number }
  | ResultEvent
  | {
      type: "error";
      ename: string;
      evalue: string;
      traceback: string[];
      lineNumber?: number;
      timestamp: number;
      /** Atoll: registry code when the failure is the interpreter's, not the user's code. */
      code?: string;
    }
  | {
      type: "execution_complete";
      execution_count: number;
      timestamp: number;
      /** Atoll extras. */
      duration_ms: number;
      timed_out?: boolean;
      interrupted?: boolean;
    };

export interface ResultEvent {
  type: "result";
  text?: string;
  html?: string;
  /** base64 */
  png?: string;
  /** base64 */
  jpeg?: string;
  svg?: string;
  latex?: string;
  markdown?: string;
  javascript?: string;
  json?: unknown;
  /** Atoll: a matplotlib figure's data (type, title, axis labels, points). */
  chart?: ChartResult;
  /** MIME types without a flat field (e.g. application/vnd.plotly.v1+json), keyed by MIME type. */
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  execution_count?: number;
  /** Atoll: true for the value of the last expression, false for display() output. */
  is_main_result?: boolean;
  timestamp: number;
}

/** GET /api/interpreter/health. */
export interface InterpreterHealthResult {
  success: boolean;
  status: "healthy" | "unhealthy";
  timestamp: string;
  /** Atoll extras: context count and the pre-warmed executors' state and start-up times. */
  contexts: number;
  /** readyMs: spawn → ready as the agent saw it; runnerStartupMs: the runner's own share of it. */
  prewarm: Record<string, { state: "off" | "queued" | "starting" | "ready" | "used" | "failed"; readyMs?: number; runnerStartupMs?: number; error?: string }>;
}
