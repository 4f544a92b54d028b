// Maps runner events to the /api/execute/code SSE events Cloudflare's InterpreterClient parses:
// MIME bundles become flat Result fields (text, html, png, svg, json, ...); MIME types without a
// flat field stay under `data`.
import { MIME_FIELDS, type ExecuteCodeEvent, type ResultEvent } from "@atoll/protocol";
import type { RunnerEvent } from "./executor.js";

export function resultEvent(data: Record<string, unknown>, metadata: Record<string, unknown> | undefined, main: boolean, count: number): ResultEvent {
  const ev: ResultEvent = { type: "result", timestamp: Date.now(), execution_count: count, is_main_result: main };
  const extra: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    const field = MIME_FIELDS[mime];
    if (field) (ev as unknown as Record<string, unknown>)[field] = field === "json" || field === "chart" || typeof value === "string" ? value : JSON.stringify(value);
    else extra[mime] = value;
  }
  if (Object.keys(extra).length) ev.data = extra;
  if (metadata && Object.keys(metadata).length) ev.metadata = metadata;
  return ev;
}

/** One runner event → zero or one wire event. `count` is the execution count of the run. */
export function toWireEvent(e: RunnerEvent, count: number): ExecuteCodeEvent | undefined {
  switch (e.ev) {
    case "stdout":
    case "stderr":
      return e.text ? { type: e.ev, text: e.text, timestamp: Date.now() } : undefined;
    case "result":
      return resultEvent(e.data ?? {}, e.metadata, e.main === true, count);
    case "error":
      return { type: "error", ename: e.ename ?? "Error", evalue: e.evalue ?? "", traceback: e.traceback ?? [], timestamp: Date.now() };
    default:
      return undefined;
  }
}
