// Small HTTP helpers for the agent: JSON bodies with a size cap, coded errors, SSE responses.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode, codeForErrno, encodeSSE, errorBody } from "@atoll/protocol";

export const MAX_JSON_BODY = 64 * 1024 * 1024;

export type Params = Record<string, string>;
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: URL) => Promise<void> | void;
export interface Route {
  method: string;
  /** Path pattern, e.g. "/api/process/:id/logs". */
  path: string;
  handler: Handler;
}

export async function readBody(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new AtollError(ErrorCode.PAYLOAD_TOO_LARGE, `Cannot read request body: larger than ${limit} bytes`, { limit });
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a JSON object body. Empty body → {}. A body must be sent as application/json: the types
 * a browser may send without a CORS preflight (text/plain, forms) are refused, so a page can never
 * smuggle a JSON command in as a "simple" request.
 */
export async function readJson<T = Record<string, unknown>>(req: IncomingMessage, limit = MAX_JSON_BODY): Promise<T> {
  const type = String(req.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
  const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
  if (hasBody && type !== "application/json") {
    throw new AtollError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, `Cannot read request body: content-type must be application/json (got ${JSON.stringify(type || "none")})`, { contentType: type });
  }
  const buf = await readBody(req, limit);
  if (buf.length === 0) return {} as T;
  let v: unknown;
  try {
    v = JSON.parse(buf.toString("utf8"));
  } catch (e) {
    throw new AtollError(ErrorCode.INVALID_JSON, `Cannot parse request body: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new AtollError(ErrorCode.INVALID_JSON, "Cannot parse request body: expected a JSON object");
  }
  return v as T;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

/** Turns any thrown value into the one error shape. fs errno errors map to file codes. */
export function toAtollError(err: unknown): AtollError {
  if (err instanceof AtollError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === "string" && typeof e.syscall === "string") {
    return new AtollError(codeForErrno(e.code), `Cannot ${e.syscall} ${e.path ?? ""}: ${e.code}`.replace("  ", " "), { path: e.path, errno: e.code });
  }
  return new AtollError(ErrorCode.INTERNAL_ERROR, `Internal error: ${e?.message ?? String(err)}`);
}

export function sendError(res: ServerResponse, err: unknown): void {
  const ae = toAtollError(err);
  if (res.headersSent) {
    // Mid-stream: report in-band when this is an SSE stream, then end.
    if (String(res.getHeader("content-type") ?? "").startsWith("text/event-stream")) {
      res.end(encodeSSE({ type: "error", timestamp: new Date().toISOString(), error: ae.message, code: ae.code }));
    } else res.destroy();
    return;
  }
  sendJson(res, ae.httpStatus, errorBody(ae.code, ae.message, ae.context));
}

/** Starts an SSE response: flushes headers now; each write() is one event. */
export function startSSE(res: ServerResponse): (event: unknown) => boolean {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.flushHeaders();
  return (event) => res.write(encodeSSE(event));
}

/** Requires a non-empty string field; paths must not contain NUL. */
export function requireString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== "string" || v.length === 0) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot handle request: "${field}" must be a non-empty string`, { field });
  }
  return v;
}

export function requirePath(body: Record<string, unknown>, field = "path"): string {
  const p = requireString(body, field);
  if (p.includes("\0")) throw new AtollError(ErrorCode.INVALID_PATH, `Cannot use path: it contains a NUL byte`, { field });
  return p;
}

export function nowIso(): string {
  return new Date().toISOString();
}
