// Streaming reads and writes: the Cloudflare SSE file stream, and Atoll's raw upload/download.
// Only files up to 8 MiB are held whole in memory (to answer them as one checked version).
import type { BigIntStats } from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode, encodeSSE, type FileStreamEvent } from "@atoll/protocol";
import { detectType, SNIFF_BYTES, type Detected } from "./mime.js";
import { statReadable } from "./ops.js";
import { replaceFile } from "./atomic.js";
import { changedError, readConsistent, settle, stamp, unchanged } from "./consistent.js";

/** Bytes per SSE chunk (before base64), as in Cloudflare's stream. */
export const SSE_CHUNK = 64 * 1024;
/** Read/write buffer for raw transfers: big enough for disk-speed, small enough to bound memory. */
const RAW_CHUNK = 1024 * 1024;
/** Largest size-0 (pseudo) file GET /api/files/raw reads whole. */
const PSEUDO_FILE_LIMIT = 16 * 1024 * 1024;
/** GET /api/files/raw reads files up to this size whole (and checked) before answering. */
const BUFFERED_MAX = 8 * 1024 * 1024;

/** Opens a regular file for reading, stamps it (consistent.ts) and sniffs its type. Directories are refused. */
async function openForRead(p: string): Promise<{ fh: fsp.FileHandle; size: number; det: Detected; before: BigIntStats }> {
  await statReadable(p); // before open: opening a FIFO would block
  const fh = await fsp.open(p, "r");
  try {
    if (!(await stamp(fh)).isFile()) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot read ${p}: not a regular file`, { path: p });
    const before = await settle(fh); // mtime old enough that any write from now on changes it
    if (!before) throw changedError(p);
    const size = Number(before.size);
    const sample = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    const { bytesRead } = await fh.read(sample, 0, sample.length, 0);
    const det = detectType(p, sample.subarray(0, bytesRead), size <= SNIFF_BYTES);
    return { fh, size, det, before };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** POST /api/read/stream: metadata, chunk…, complete — each "data: {json}\n\n". */
export async function streamFileSSE(p: string, res: ServerResponse): Promise<void> {
  const { fh, size, det, before } = await openForRead(p);
  const encoding = det.isBinary ? "base64" : "utf-8";
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  const send = (ev: FileStreamEvent): boolean => res.write(encodeSSE(ev));
  send({ type: "metadata", mimeType: det.mimeType, size, isBinary: det.isBinary, encoding });
  const rs = fh.createReadStream({ highWaterMark: SSE_CHUNK, start: 0, autoClose: false });
  const text = new StringDecoder("utf8");
  let bytesRead = 0;
  try {
    for await (const chunk of rs as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      bytesRead += chunk.length;
      const data = det.isBinary ? chunk.toString("base64") : text.write(chunk);
      if (data.length > 0 && !send({ type: "chunk", data })) await drained(res);
    }
    if (!det.isBinary) {
      const rest = text.end();
      if (rest) send({ type: "chunk", data: rest });
    }
    // Rewritten in place while streaming: the chunks may mix versions, so the stream ends in an error.
    if (!res.destroyed && (bytesRead !== size || !unchanged(before, await stamp(fh)))) {
      const err = changedError(p);
      res.end(encodeSSE({ type: "error", error: err.message, code: err.code } satisfies FileStreamEvent));
      return;
    }
    if (!res.destroyed) res.end(encodeSSE({ type: "complete", bytesRead } satisfies FileStreamEvent));
  } catch (e) {
    if (!res.destroyed) res.end(encodeSSE({ type: "error", error: `Cannot read ${p}: ${(e as Error).message}` } satisfies FileStreamEvent));
  } finally {
    rs.destroy();
    await fh.close().catch(() => {});
  }
}

/** Waits for the response to drain, or resolves when the client went away. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/**
 * GET /api/files/raw: the file's bytes. Up to BUFFERED_MAX they are read whole from one fd and
 * checked (consistent.ts) before anything is sent, so the answer is one version or a coded error.
 * Bigger files stream with backpressure; the last byte is held back until fstat shows the file did
 * not change meanwhile — if it did, the connection is cut before the body is complete, so a client
 * never receives a full-length 200 that mixes versions.
 */
export async function sendRawFile(p: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { fh, size, det, before } = await openForRead(p);
  const headers = (length: number, d: Detected): Record<string, string | number> => ({
    "content-type": d.isBinary ? d.mimeType : `${d.mimeType}; charset=utf-8`,
    "content-length": length,
    "x-atoll-binary": d.isBinary ? "1" : "0",
    "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(p))}`,
  });
  if (size <= BUFFERED_MAX) {
    await fh.close();
    // Size 0 may still have content (/proc, /sys): read whole, capped.
    const cap = size === 0 ? PSEUDO_FILE_LIMIT : BUFFERED_MAX;
    const tooBig = () => (size === 0
      ? new AtollError(ErrorCode.PAYLOAD_TOO_LARGE, `Cannot read ${p}: a size-0 file longer than ${PSEUDO_FILE_LIMIT} bytes`, { path: p, limit: PSEUDO_FILE_LIMIT })
      : changedError(p));
    // Read again by path: if the file was replaced meanwhile, this is the newer version, whole.
    const body = await readConsistent(p, cap, tooBig);
    res.writeHead(200, headers(body.length, detectType(p, body.subarray(0, SNIFF_BYTES), body.length <= SNIFF_BYTES)));
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  try {
    res.writeHead(200, headers(size, det));
    if (req.method === "HEAD") return void res.end();
    const rs = fh.createReadStream({ highWaterMark: RAW_CHUNK, start: 0, end: size - 2, autoClose: false });
    await pipeline(rs, res, { end: false });
    const last = Buffer.alloc(1);
    const { bytesRead } = await fh.read(last, 0, 1, size - 1);
    if (rs.bytesRead !== size - 1 || bytesRead !== 1 || !unchanged(before, await stamp(fh))) {
      console.error(`[agent] ${p} changed while being sent: response cut`);
      res.destroy();
      return;
    }
    res.end(last);
  } catch {
    res.destroy(); // client went away or the file failed mid-way: the client sees a cut body, never a short 200
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * PUT /api/files/raw: streams the request body into a temporary file next to the target, then
 * renames it into place (atomic.ts), so readers never see a half-written file and a failed upload
 * leaves nothing behind. The replaced file's owner and mode are kept.
 */
export async function receiveRawFile(p: string, req: IncomingMessage): Promise<number> {
  return replaceFile(p, async (fh) => {
    const ws = fh.createWriteStream({ highWaterMark: RAW_CHUNK });
    await pipeline(req, ws);
    const bytes = ws.bytesWritten;
    const expected = Number(req.headers["content-length"]);
    if (Number.isFinite(expected) && req.headers["content-length"] !== undefined && bytes !== expected) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot write ${p}: received ${bytes} of ${expected} bytes`, { path: p });
    }
    return bytes;
  });
}
