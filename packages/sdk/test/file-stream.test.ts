import assert from "node:assert/strict";
import { test } from "node:test";
import { FileNotFoundError, SandboxError, bytesToBase64, collectFile, streamFile } from "../src/index.js";
import { chunked, streamOf } from "./helpers.js";

const sse = (...events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("");

test("collectFile joins text chunks and returns metadata", async () => {
  const text = sse(
    { type: "metadata", mimeType: "text/plain", size: 11, isBinary: false, encoding: "utf-8" },
    { type: "chunk", data: "hello " },
    { type: "chunk", data: "wörld" },
    { type: "complete", bytesRead: 12 },
  );
  const { content, metadata } = await collectFile(streamOf(chunked(text, 3)));
  assert.equal(content, "hello wörld");
  assert.deepEqual(metadata, { mimeType: "text/plain", size: 11, isBinary: false, encoding: "utf-8" });
});

test("collectFile decodes base64 chunks of a binary file into the exact bytes", async () => {
  const bytes = new Uint8Array(70_000).map((_, i) => (i * 31 + 7) & 0xff);
  const parts = [bytes.subarray(0, 30_000), bytes.subarray(30_000)];
  const text = sse(
    { type: "metadata", mimeType: "application/octet-stream", size: bytes.length, isBinary: true, encoding: "base64" },
    ...parts.map((p) => ({ type: "chunk", data: bytesToBase64(p) })),
    { type: "complete", bytesRead: bytes.length },
  );
  const { content, metadata } = await collectFile(streamOf(chunked(text, 4096)));
  assert.ok(content instanceof Uint8Array);
  assert.equal(metadata.isBinary, true);
  assert.deepEqual(content, bytes);
});

test("streamFile yields chunks as they arrive and returns metadata at the end", async () => {
  const text = sse({ type: "metadata", mimeType: "text/plain", size: 2, isBinary: false, encoding: "utf-8" }, { type: "chunk", data: "a" }, { type: "chunk", data: "b" }, { type: "complete", bytesRead: 2 });
  const gen = streamFile(streamOf([text]));
  const got: unknown[] = [];
  let r = await gen.next();
  while (!r.done) (got.push(r.value), (r = await gen.next()));
  assert.deepEqual(got, ["a", "b"]);
  assert.equal(r.value.mimeType, "text/plain");
});

test("an error event becomes a SandboxError with the event's registry code", async () => {
  const text = sse({ type: "error", error: "no such file", code: "FILE_NOT_FOUND" });
  await assert.rejects(collectFile(streamOf([text])), (e: unknown) => e instanceof FileNotFoundError && (e as SandboxError).code === "FILE_NOT_FOUND" && (e as SandboxError).httpStatus === 404);
});

test("a stream that ends before 'complete' is an error, not a silent truncation", async () => {
  const text = sse({ type: "metadata", mimeType: "text/plain", size: 5, isBinary: false, encoding: "utf-8" }, { type: "chunk", data: "abc" });
  await assert.rejects(collectFile(streamOf([text])), (e: unknown) => e instanceof SandboxError && /ended before completion/.test((e as Error).message));
});

test("a chunk before metadata is rejected", async () => {
  await assert.rejects(collectFile(streamOf([sse({ type: "chunk", data: "x" })])), /chunk received before metadata/);
});
