// Code interpreter routes (Cloudflare container API): contexts, /api/execute/code (SSE), health.
import type { ServerResponse } from "node:http";
import {
  assertEnvSetBounds,
  AtollError,
  DEFAULT_INTERPRETER_LANGUAGE,
  ErrorCode,
  normalizeLanguage,
  type ContextCreateRequest,
  type ExecuteCodeEvent,
  type ExecuteCodeRequest,
  type InterpreterLanguage,
} from "@atoll/protocol";
import { nowIso, readJson, sendJson, startSSE, type Route } from "../http.js";
import { interpreter } from "../interpreter/index.js";
import type { InterpreterManager } from "../interpreter/manager.js";
import type { ExecutorKind } from "../interpreter/runtime-paths.js";

function language(v: unknown, what: string): InterpreterLanguage {
  if (v === undefined || v === null || v === "") return DEFAULT_INTERPRETER_LANGUAGE;
  const lang = typeof v === "string" ? normalizeLanguage(v) : undefined;
  if (!lang) {
    throw new AtollError(
      ErrorCode.INVALID_LANGUAGE,
      `Cannot ${what}: unsupported language ${JSON.stringify(v)}; use python, javascript or typescript (aliases python3, js, node, ts)`,
      { language: v },
    );
  }
  return lang;
}

function envVars(v: unknown, field: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot handle request: "${field}" must be an object of strings`, { field });
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (typeof val !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || val.includes("\0")) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot handle request: "${field}.${k}" must be a valid name with a string value`, { field, key: k });
    }
    out[k] = val;
  }
  assertEnvSetBounds(out, field); // the same bounds as every other env (protocol env-bounds.ts)
  return out;
}

function timeoutMs(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot handle request: "${field}" must be a positive number of milliseconds`, { field });
  }
  return v;
}

function cwdOf(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !v.startsWith("/") || v.includes("\0")) {
    throw new AtollError(ErrorCode.INVALID_PATH, `Cannot create context: "cwd" must be an absolute path`, { cwd: v });
  }
  return v;
}

/** Writes SSE events; `waitDrain` resolves when the client can take more (or is gone). */
function sseSink(res: ServerResponse) {
  const write = startSSE(res);
  return {
    emit: (e: ExecuteCodeEvent) => (res.writableEnded || res.destroyed ? true : write(e)),
    waitDrain: () =>
      new Promise<void>((resolve) => {
        if (res.destroyed) return resolve();
        const done = () => (res.off("drain", done), res.off("close", done), resolve());
        res.on("drain", done);
        res.on("close", done);
      }),
  };
}

export function interpreterRoutes(mgr: InterpreterManager = interpreter): Route[] {
  schedulePrewarm(mgr);
  return [
    {
      method: "POST",
      path: "/api/contexts",
      handler: async (req, res) => {
        const body = await readJson<ContextCreateRequest>(req);
        const lang = language(body.language, "create context");
        const ctx = await mgr.create({
          language: lang,
          cwd: cwdOf(body.cwd),
          env: envVars(body.env_vars ?? body.envVars, body.env_vars !== undefined ? "env_vars" : "envVars"),
          timeoutMs: timeoutMs(body.timeout, "timeout"),
        });
        sendJson(res, 200, { success: true, contextId: ctx.id, language: ctx.language, cwd: ctx.cwd, timestamp: nowIso() });
      },
    },
    {
      method: "GET",
      path: "/api/contexts",
      handler: (_req, res) => sendJson(res, 200, { success: true, contexts: mgr.list().map((c) => c.info()), timestamp: nowIso() }),
    },
    {
      method: "DELETE",
      path: "/api/contexts/:id",
      handler: (_req, res, params) => {
        mgr.delete(params.id!);
        sendJson(res, 200, { success: true, contextId: params.id, timestamp: nowIso() });
      },
    },
    {
      method: "POST",
      path: "/api/execute/code",
      handler: async (req, res) => {
        const body = await readJson<ExecuteCodeRequest>(req);
        if (typeof body.code !== "string" || body.code.includes("\0")) {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot run code: "code" must be a string without NUL bytes`, { field: "code" });
        }
        const lang = language(body.language, "run code");
        const timeout = timeoutMs(body.timeout_ms ?? body.timeout, body.timeout_ms !== undefined ? "timeout_ms" : "timeout");
        const env = envVars(body.env_vars, "env_vars");
        if (body.context_id !== undefined && typeof body.context_id !== "string") {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot run code: "context_id" must be a string`, { field: "context_id" });
        }
        const ctx = body.context_id ? mgr.get(body.context_id) : await mgr.defaultFor(lang);
        const abort = new AbortController();
        res.on("close", () => abort.abort());
        const sink = sseSink(res);
        await ctx.run(body.code, { timeoutMs: timeout, env, signal: abort.signal, emit: sink.emit, waitDrain: sink.waitDrain });
        res.end();
      },
    },
    {
      method: "GET",
      path: "/api/interpreter/health",
      handler: (_req, res) => sendJson(res, 200, mgr.health()),
    },
  ];
}

let prewarmScheduled = false;

/** Pre-warm when the real agent starts (not when tests build a server), after it began listening. */
function schedulePrewarm(mgr: InterpreterManager): void {
  if (prewarmScheduled) return;
  const setting = process.env.ATOLL_INTERPRETER_PREWARM ?? (process.env.ATOLL_AGENT_NO_LISTEN === "1" ? "off" : "python,javascript");
  if (setting === "off" || setting === "") return;
  prewarmScheduled = true;
  const kinds = setting
    .split(",")
    .map((s) => normalizeLanguage(s.trim()))
    .filter((l): l is InterpreterLanguage => !!l)
    .map((l): ExecutorKind => (l === "python" ? "python" : "node"));
  const delay = Number(process.env.ATOLL_INTERPRETER_PREWARM_DELAY_MS ?? 50);
  setTimeout(() => mgr.prewarm([...new Set(kinds)]), delay).unref();
}
