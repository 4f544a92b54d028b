// Helpers over readFileStream(): decode the agent's SSE file events into chunks.
import type { FileStreamEvent } from "@atoll/protocol";
import { ErrorCode, isErrorCode } from "@atoll/protocol";
import { sdkError } from "./errors.js";
import { parseSSEStream } from "./sse.js";

export type { FileStreamEvent };

export interface FileMetadata {
  mimeType: string;
  size: number;
  isBinary: boolean;
  encoding: "utf-8" | "base64";
}

/** A text chunk (string) or a binary chunk (bytes, already base64-decoded). */
export type FileChunk = string | Uint8Array;

/** Decodes base64 without Buffer, so it runs in every runtime. */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encodes bytes as base64 without Buffer. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) bin += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(bin);
}

/**
 * Yields the file's chunks (strings for text, Uint8Array for binary files); returns the metadata.
 * Throws a SandboxError when the agent reports an error or the stream ends early.
 */
export async function* streamFile(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<FileChunk, FileMetadata> {
  let meta: FileMetadata | null = null;
  for await (const ev of parseSSEStream<FileStreamEvent>(stream, signal)) {
    switch (ev.type) {
      case "metadata":
        meta = { mimeType: ev.mimeType, size: ev.size, isBinary: ev.isBinary, encoding: ev.encoding };
        break;
      case "chunk":
        if (!meta) throw sdkError(ErrorCode.FILESYSTEM_ERROR, "Cannot stream file: chunk received before metadata");
        yield meta.encoding === "base64" ? base64ToBytes(ev.data) : ev.data;
        break;
      case "complete":
        if (!meta) throw sdkError(ErrorCode.FILESYSTEM_ERROR, "Cannot stream file: stream completed without metadata");
        return meta;
      case "error":
        throw sdkError(isErrorCode(ev.code) ? ev.code : ErrorCode.FILESYSTEM_ERROR, `Cannot stream file: ${ev.error}`, {});
    }
  }
  throw sdkError(ErrorCode.FILESYSTEM_ERROR, "Cannot stream file: stream ended before completion");
}

/** Reads a whole readFileStream() into memory: a string for text, bytes for binary files. */
export async function collectFile(stream: ReadableStream<Uint8Array>): Promise<{ content: string | Uint8Array; metadata: FileMetadata }> {
  const chunks: FileChunk[] = [];
  const gen = streamFile(stream);
  let r = await gen.next();
  while (!r.done) {
    chunks.push(r.value);
    r = await gen.next();
  }
  const metadata = r.value;
  if (metadata.encoding === "base64") {
    const total = chunks.reduce((n, c) => n + (typeof c === "string" ? 0 : c.length), 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) if (typeof c !== "string") (out.set(c, off), (off += c.length));
    return { content: out, metadata };
  }
  return { content: chunks.join(""), metadata };
}
