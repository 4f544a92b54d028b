// HTTP plumbing for the control plane's API: typed routes, JSON in/out, coded errors.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode, codeForErrno, errorBody } from "@atoll/protocol";
import { hostDiskFull, isDiskFull } from "./disk-full.js";

export interface ApiContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  url: URL;
}
export type ApiHandler = (ctx: ApiContext) => Promise<void> | void;
export interface ApiRoute {
  method: string;
  /** Pattern for protocol's RouteTable, e.g. "/v1/sandboxes/:id/ports/:port". */
  path: string;
  handler: ApiHandler;
  /** false for the few routes that need no API key (health). Default true. */
  auth?: boolean;
}

/** Reads a JSON body of at most `limit` bytes (config.maxJsonBody: /v1 bodies are small; file data streams). */
export async function jsonBody<T = Record<string, unknown>>(req: IncomingMessage, limit: number): Promise<T> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw new AtollError(ErrorCode.PAYLOAD_TOO_LARGE, `Cannot accept request body: over ${limit} bytes`, { limit });
    parts.push(chunk);
  }
  if (total === 0) return {} as T;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(parts).toString("utf8"));
  } catch (e) {
    throw new AtollError(ErrorCode.INVALID_JSON, `Cannot parse JSON body: ${(e as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AtollError(ErrorCode.INVALID_JSON, "Cannot parse JSON body: expected an object");
  }
  return parsed as T;
}

export function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export function asAtollError(err: unknown): AtollError {
  if (err instanceof AtollError) return err;
  // the control plane's own writes (SQLite, state files, host tools) on a full data dir: 507, not 500
  if (isDiskFull(err)) return hostDiskFull("complete the request", err);
  const e = err as NodeJS.ErrnoException;
  if (e?.syscall && e.code) return new AtollError(codeForErrno(e.code), `Cannot ${e.syscall}: ${e.code}`, { errno: e.code });
  return new AtollError(ErrorCode.INTERNAL_ERROR, `Internal error: ${e?.message ?? String(err)}`);
}

export function replyError(res: ServerResponse, err: unknown): void {
  const ae = asAtollError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  reply(res, ae.httpStatus, errorBody(ae.code, ae.message, ae.context));
}
