// The Cloudflare-compatible file operations: read, write, delete, rename, move, mkdir, exists.
import fs from "node:fs/promises";
import path from "node:path";
import { AtollError, ErrorCode, type FileEncoding } from "@atoll/protocol";
import { detectType, looksLikeText, SNIFF_BYTES } from "./mime.js";
import { replaceFile } from "./atomic.js";
import { readConsistent } from "./consistent.js";

/** Largest file /api/read returns in one JSON body; bigger files go through read/stream or raw. */
export const MAX_READ_BYTES = 128 * 1024 * 1024;

export function parseEncoding(v: unknown): FileEncoding | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (v === "utf-8" || v === "utf8") return "utf-8";
  if (v === "base64") return "base64";
  throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot handle request: encoding must be "utf-8" or "base64"`, { encoding: v });
}

export interface ReadOutcome {
  content: string;
  encoding: FileEncoding;
  isBinary: boolean;
  mimeType: string;
  size: number;
}

/** Refuses what cannot be read as a file: directories, FIFOs (opening one blocks), sockets, devices. */
export async function statReadable(p: string): Promise<import("node:fs").Stats> {
  const st = await fs.stat(p);
  if (st.isDirectory()) throw new AtollError(ErrorCode.IS_DIRECTORY, `Cannot read ${p}: it is a directory`, { path: p });
  if (!st.isFile()) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot read ${p}: not a regular file`, { path: p });
  return st;
}

/**
 * Reads a whole regular file, up to `limit` bytes, as one consistent version (consistent.ts);
 * files in /proc report size 0, so they are read to EOF.
 */
export async function readCapped(p: string, limit: number): Promise<Buffer> {
  const tooBig = () => new AtollError(ErrorCode.PAYLOAD_TOO_LARGE, `Cannot read ${p}: larger than the ${limit}-byte limit of /api/read (use /api/read/stream or GET /api/files/raw)`, { path: p, limit });
  return readConsistent(p, limit, tooBig, (st) => {
    if (!st.isFile()) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot read ${p}: not a regular file`, { path: p });
    if (st.size > BigInt(limit)) throw tooBig();
  });
}

export async function readFileContent(p: string, requested?: FileEncoding): Promise<ReadOutcome> {
  const st = await statReadable(p);
  if (st.size > MAX_READ_BYTES) {
    throw new AtollError(ErrorCode.PAYLOAD_TOO_LARGE, `Cannot read ${p}: ${st.size} bytes is over the ${MAX_READ_BYTES}-byte limit of /api/read (use /api/read/stream or GET /api/files/raw)`, { path: p, size: st.size, limit: MAX_READ_BYTES });
  }
  const buf = await readCapped(p, MAX_READ_BYTES); // one fd, checked against changes underneath
  const det = detectType(p, buf.subarray(0, SNIFF_BYTES), buf.length <= SNIFF_BYTES);
  // A file that sniffs as text but is not valid UTF-8 further on is binary.
  const isBinary = det.isBinary || (buf.length > SNIFF_BYTES && !looksLikeText(buf, true));
  const encoding: FileEncoding = requested ?? (isBinary ? "base64" : "utf-8");
  const content = encoding === "base64" ? buf.toString("base64") : buf.toString("utf8");
  return { content, encoding, isBinary, mimeType: isBinary && !det.isBinary ? "application/octet-stream" : det.mimeType, size: buf.length };
}

const BASE64_RE = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;

export function decodeContent(content: unknown, encoding: FileEncoding | undefined): Buffer {
  if (typeof content !== "string") {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot handle request: "content" must be a string`, { field: "content" });
  }
  if (encoding === "base64") {
    if (!BASE64_RE.test(content)) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, "Cannot write file: content is not valid base64", { field: "content" });
    }
    return Buffer.from(content, "base64");
  }
  return Buffer.from(content, "utf8");
}

/** Writes a file atomically (atomic.ts: readers see the old or the new content), creating missing parents. */
export async function writeFileContent(p: string, data: Buffer): Promise<void> {
  await replaceFile(p, (fh) => fh.writeFile(data));
}

/** Deletes a file or symlink. Directories are refused (IS_DIRECTORY), as in Cloudflare's API. */
export async function deleteFile(p: string): Promise<void> {
  const st = await fs.lstat(p);
  if (st.isDirectory()) {
    throw new AtollError(ErrorCode.IS_DIRECTORY, `Cannot delete ${p}: it is a directory (remove directories with exec, e.g. rm -rf)`, { path: p });
  }
  await fs.unlink(p);
}

/** rename(2) semantics: newPath is the exact new name; an existing file there is replaced. */
export async function renamePath(from: string, to: string): Promise<void> {
  await fs.lstat(from);
  await moveExact(from, to);
}

/** mv semantics: moving onto an existing directory puts the source inside it. Works across filesystems. */
export async function movePath(from: string, to: string): Promise<string> {
  await fs.lstat(from);
  const dst = await fs.stat(to).catch(() => null);
  const target = dst?.isDirectory() && path.resolve(from) !== path.resolve(to) ? path.join(to, path.basename(from)) : to;
  await moveExact(from, target);
  return target;
}

async function moveExact(from: string, to: string): Promise<void> {
  if (to === from) return;
  if (to.startsWith(from + "/")) {
    throw new AtollError(ErrorCode.INVALID_PATH, `Cannot move ${from} into itself (${to})`, { path: from, newPath: to });
  }
  try {
    await fs.rename(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    // Different filesystems: copy, then remove the source.
    await fs.cp(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true, errorOnExist: false, force: true });
    await fs.rm(from, { recursive: true, force: true });
  }
}

export async function makeDirectory(p: string, recursive: boolean): Promise<void> {
  if (recursive) {
    const st = await fs.stat(p).catch(() => null);
    if (st && !st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot mkdir ${p}: a file exists there`, { path: p });
  }
  await fs.mkdir(p, { recursive });
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return false;
    throw e;
  }
}
