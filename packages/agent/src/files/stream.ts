// Streaming reads and writes that never hold a whole file in memory:
// the Cloudflare SSE file stream, and Atoll's raw upload/download.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import crypto from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import { pipeline } from "node:stream/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode, encodeSSE, type FileStreamEvent } from "@atoll/protocol";
import { detectType, SNIFF_BYTES, type Detected } from "./mime.js";
import { readCapped, statReadable } from "./ops.js";

/** Bytes per SSE chunk (before base64), as in Cloudflare's stream. */
export const SSE_CHUNK = 64 * 1024;
/** Read/write buffer for raw transfers: big enough for disk-speed, small enough to bound memory. */
const RAW_CHUNK = 1024 * 1024;
/** Largest size-0 (pseudo) file GET /api/files/raw reads whole. */
const PSEUDO_FILE_LIMIT = 16 * 1024 * 1024;

/** Opens a regular file for reading and sniffs its type. Directories are refused. */
async function openForRead(p: string): Promise<{ fh: fsp.FileHandle; size: number; det: Detected }> {
  await statReadable(p); // before open: opening a FIFO would block
  const fh = await fsp.open(p, "r");
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot read ${p}: not a regular file`, { path: p });
    const sample = Buffer.alloc(Math.min(SNIFF_BYTES, st.size));
    const { bytesRead } = await fh.read(sample, 0, sample.length, 0);
    const det = detectType(p, sample.subarray(0, bytesRead), st.size <= SNIFF_BYTES);
    return { fh, size: st.size, det };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** POST /api/read/stream: metadata, chunk…, complete — each "data: {json}\n\n". */
export async function streamFileSSE(p: string, res: ServerResponse): Promise<void> {
  const { fh, size, det } = await openForRead(p);
  const encoding = det.isBinary ? "base64" : "utf-8";
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  const send = (ev: FileStreamEvent): boolean => res.write(encodeSSE(ev));
  send({ type: "metadata", mimeType: det.mimeType, size, isBinary: det.isBinary, encoding });
  const rs = fh.createReadStream({ highWaterMark: SSE_CHUNK, start: 0 });
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

/** GET /api/files/raw: the file's bytes, streamed with backpressure. */
export async function sendRawFile(p: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const opened = await openForRead(p);
  const { fh, det } = opened;
  let size = opened.size;
  // Files reporting size 0 may still have content (/proc, /sys): read them whole, capped.
  let small: Buffer | null = null;
  if (size === 0) {
    await fh.close();
    small = await readCapped(p, PSEUDO_FILE_LIMIT);
    size = small.length;
  }
  const headers: Record<string, string | number> = {
    "content-type": det.isBinary ? det.mimeType : `${det.mimeType}; charset=utf-8`,
    "content-length": size,
    "x-atoll-binary": det.isBinary ? "1" : "0",
    "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(p))}`,
  };
  if (req.method === "HEAD" || small) {
    if (!small) await fh.close();
    res.writeHead(200, headers);
    res.end(req.method === "HEAD" ? undefined : small);
    return;
  }
  res.writeHead(200, headers);
  // Only the size announced in content-length is sent, even if the file grows meanwhile.
  const rs = fh.createReadStream({ highWaterMark: RAW_CHUNK, start: 0, end: size - 1 });
  try {
    await pipeline(rs, res);
  } catch {
    res.destroy(); // client went away or the file failed mid-way: a short body tells the client
  }
}

/**
 * PUT /api/files/raw: streams the request body into a temporary file next to the target, then
 * renames it into place, so a failed upload never leaves a half-written file at `p`.
 */
export async function receiveRawFile(p: string, req: IncomingMessage): Promise<number> {
  const st = await fsp.stat(p).catch(() => null);
  if (st?.isDirectory()) throw new AtollError(ErrorCode.IS_DIRECTORY, `Cannot write ${p}: it is a directory`, { path: p });
  const dir = path.dirname(p);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(p)}.atoll-upload-${crypto.randomBytes(6).toString("hex")}`);
  const ws = fs.createWriteStream(tmp, { highWaterMark: RAW_CHUNK, mode: st ? st.mode & 0o7777 : 0o644 });
  try {
    await pipeline(req, ws);
    const bytes = ws.bytesWritten;
    const expected = Number(req.headers["content-length"]);
    if (Number.isFinite(expected) && req.headers["content-length"] !== undefined && bytes !== expected) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot write ${p}: received ${bytes} of ${expected} bytes`, { path: p });
    }
    await fsp.rename(tmp, p);
    return bytes;
  } catch (e) {
    ws.destroy();
    await fsp.unlink(tmp).catch(() => {});
    throw e;
  }
}
