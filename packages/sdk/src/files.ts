// Files: the Cloudflare-compatible JSON routes (/api/write, read, read/stream, mkdir, delete,
// rename, move, list-files, exists) and Atoll's raw byte and tar routes (/api/files/raw, /api/archive).
import {
  ErrorCode,
  type ArchiveExtractResult,
  type DeleteFileResult,
  type FileExistsResult,
  type FileInfo,
  type ListFilesOptions,
  type ListFilesResult,
  type MkdirResult,
  type MoveFileResult,
  type RawUploadResult,
  type ReadFileResult,
  type RenameFileResult,
  type WriteFileResult,
} from "@atoll/protocol";
import { withSession, type Ctx } from "./core.js";
import { sdkError } from "./errors.js";
import { base64ToBytes, bytesToBase64 } from "./file-stream.js";

export type { ArchiveExtractResult, DeleteFileResult, FileExistsResult, FileInfo, ListFilesOptions, ListFilesResult, MkdirResult, MoveFileResult, RawUploadResult, ReadFileResult, RenameFileResult, WriteFileResult };

/** Bodies accepted by uploadFile / uploadDirectory. */
export type UploadBody = ReadableStream<Uint8Array> | Uint8Array | ArrayBuffer | Blob | string;

function post<T>(ctx: Ctx, route: string, body: object, what: string): Promise<T> {
  return ctx.core.apiJson<T>(route, { method: "POST", body: withSession(ctx, body), what });
}

/** Payloads above this go through the raw byte route instead of a JSON body (no 64 MiB cap, no base64). */
export const RAW_WRITE_THRESHOLD = 8 * 1024 * 1024;

/**
 * Writes a file. `content` is text (utf-8, or base64 when encoding is "base64");
 * Atoll also accepts bytes. Large payloads stream through the raw route transparently.
 */
export async function writeFile(ctx: Ctx, path: string, content: string | Uint8Array, options: { encoding?: string } = {}): Promise<WriteFileResult> {
  const b64 = options.encoding === "base64";
  if (content.length > RAW_WRITE_THRESHOLD || (content instanceof Uint8Array && content.length > RAW_WRITE_THRESHOLD / 2)) {
    const bytes = content instanceof Uint8Array ? content : b64 ? base64ToBytes(content) : new TextEncoder().encode(content);
    const r = await uploadFile(ctx, path, bytes);
    return { success: r.success, path: r.path, timestamp: r.timestamp, exitCode: 0 };
  }
  if (content instanceof Uint8Array) return post(ctx, "/write", { path, content: bytesToBase64(content), encoding: "base64" }, `write ${path}`);
  return post(ctx, "/write", { path, content, ...(options.encoding && { encoding: options.encoding }) }, `write ${path}`);
}

/**
 * Reads a file: text comes back as utf-8, binary files as base64 (see result.encoding).
 * Atoll fetches the bytes through the raw route (one round trip, no JSON copy of the content, no
 * 128 MiB cap of /api/read) and builds the same result shape from its headers.
 */
export async function readFile(ctx: Ctx, path: string, options: { encoding?: string } = {}): Promise<ReadFileResult> {
  if (options.encoding !== undefined && !["utf-8", "utf8", "base64"].includes(options.encoding)) {
    throw sdkError(ErrorCode.VALIDATION_FAILED, `Cannot read ${path}: encoding must be "utf-8" or "base64"`, { path, encoding: options.encoding });
  }
  const res = await ctx.core.api(`/files/raw${q(ctx, path)}`, { what: `read ${path}` });
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    // The agent cuts a large download rather than finish a body that mixes two versions of a file.
    throw sdkError(ErrorCode.RESOURCE_BUSY, `Cannot read ${path}: the transfer was cut short (the file was rewritten in place while being sent, or the connection dropped)`, { path, cause: String((e as Error)?.message ?? e) });
  }
  const isBinary = res.headers.get("x-atoll-binary") === "1";
  const asBase64 = options.encoding === "base64" || (isBinary && options.encoding === undefined);
  return {
    success: true,
    path: path.startsWith("/") ? path : `/workspace/${path}`, // relative paths resolve against the workspace
    content: asBase64 ? bytesToBase64(bytes) : new TextDecoder().decode(bytes),
    timestamp: new Date().toISOString(),
    exitCode: 0,
    encoding: asBase64 ? "base64" : "utf-8",
    isBinary,
    mimeType: (res.headers.get("content-type") ?? "application/octet-stream").split(";")[0]!.trim(),
    size: bytes.length,
  };
}

/** SSE stream of the file (metadata, chunks, complete); consume with streamFile() or collectFile(). */
export async function readFileStream(ctx: Ctx, path: string, options: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
  const res = await ctx.core.api("/read/stream", { method: "POST", body: withSession(ctx, { path }), signal: options.signal, headers: { accept: "text/event-stream" }, what: `stream ${path}` });
  if (!res.body) throw sdkError(ErrorCode.FILESYSTEM_ERROR, `Cannot stream ${path}: the response has no body`, { path });
  return res.body;
}

export function mkdir(ctx: Ctx, path: string, options: { recursive?: boolean } = {}): Promise<MkdirResult> {
  return post(ctx, "/mkdir", { path, recursive: options.recursive ?? false }, `create directory ${path}`);
}

export function deleteFile(ctx: Ctx, path: string): Promise<DeleteFileResult> {
  return post(ctx, "/delete", { path }, `delete ${path}`);
}

export function renameFile(ctx: Ctx, oldPath: string, newPath: string): Promise<RenameFileResult> {
  return post(ctx, "/rename", { oldPath, newPath }, `rename ${oldPath}`);
}

export function moveFile(ctx: Ctx, sourcePath: string, destinationPath: string): Promise<MoveFileResult> {
  return post(ctx, "/move", { sourcePath, destinationPath }, `move ${sourcePath}`);
}

export function listFiles(ctx: Ctx, path: string, options: ListFilesOptions = {}): Promise<ListFilesResult> {
  return post(ctx, "/list-files", { path, options }, `list ${path}`);
}

export function exists(ctx: Ctx, path: string): Promise<FileExistsResult> {
  return post(ctx, "/exists", { path }, `check ${path}`);
}

function q(ctx: Ctx, path: string): string {
  return `?path=${encodeURIComponent(path)}${ctx.sessionId ? `&sessionId=${encodeURIComponent(ctx.sessionId)}` : ""}`;
}

/** Atoll: writes raw bytes to `path` (streamed; no base64, no size cap beyond the disk quota). */
export function uploadFile(ctx: Ctx, path: string, body: UploadBody, options: { signal?: AbortSignal } = {}): Promise<RawUploadResult> {
  // Large in-memory buffers go out as a stream of slices (fetch copies a single big buffer slowly).
  const sent = body instanceof Uint8Array && body.length > 1 << 20 ? sliceStream(body, 1 << 20) : body;
  return ctx.core.apiJson(`/files/raw${q(ctx, path)}`, { method: "PUT", body: sent, signal: options.signal, headers: { "content-type": "application/octet-stream" }, what: `upload ${path}` });
}

function sliceStream(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (off >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(off, (off += size)));
    },
  });
}

/** Atoll: the raw bytes of `path` as a stream. */
export async function downloadFile(ctx: Ctx, path: string, options: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
  const res = await ctx.core.api(`/files/raw${q(ctx, path)}`, { signal: options.signal, what: `download ${path}` });
  return res.body ?? new ReadableStream({ start: (c) => c.close() });
}

/** Atoll: extracts a tar stream into directory `path` (created when missing). */
export function uploadDirectory(ctx: Ctx, path: string, tar: UploadBody, options: { signal?: AbortSignal } = {}): Promise<ArchiveExtractResult> {
  return ctx.core.apiJson(`/archive${q(ctx, path)}`, { method: "PUT", body: tar, signal: options.signal, headers: { "content-type": "application/x-tar" }, what: `upload directory ${path}` });
}

/** Atoll: directory `path` as a tar stream (entries relative to it). */
export async function downloadDirectory(ctx: Ctx, path: string, options: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
  const res = await ctx.core.api(`/archive${q(ctx, path)}`, { signal: options.signal, what: `download directory ${path}` });
  return res.body ?? new ReadableStream({ start: (c) => c.close() });
}

/** Clones a repository (default target: /workspace/<repo name>). */
export function gitCheckout(ctx: Ctx, repoUrl: string, options: { branch?: string; targetDir?: string; depth?: number } = {}) {
  const name = repoUrl.replace(/\/+$/, "").split(/[/:]/).pop()?.replace(/\.git$/, "") || "repo";
  const body = { repoUrl, targetDir: options.targetDir ?? `/workspace/${name}`, ...(options.branch && { branch: options.branch }), ...(options.depth !== undefined && { depth: options.depth }) };
  return post<import("@atoll/protocol").GitCheckoutResult>(ctx, "/git/checkout", body, `check out ${repoUrl}`);
}
