import assert from "node:assert/strict";
import { test } from "node:test";
import { asyncIterableToSSEStream, parseSSEStream } from "../src/index.js";
import { chunked, streamOf } from "./helpers.js";

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

test("parseSSEStream reassembles events split at every byte boundary, including inside UTF-8", async () => {
  const events = [{ type: "stdout", data: "héllo wörld ✓ 🎉" }, { type: "complete", exitCode: 0 }];
  const text = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("");
  for (const size of [1, 2, 3, 5, 7, 64]) {
    assert.deepEqual(await all(parseSSEStream(streamOf(chunked(text, size)))), events, `chunk size ${size}`);
  }
});

test("parseSSEStream handles CRLF, multi-line data, comments, [DONE], invalid JSON and a final unterminated event", async () => {
  const text = ': comment\r\nevent: x\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: not json\n\ndata: [DONE]\n\ndata: {"b":2}';
  assert.deepEqual(await all(parseSSEStream(streamOf([text]))), [{ a: 1 }, { b: 2 }]);
});

test("parseSSEStream accepts 'data:' without a space", async () => {
  assert.deepEqual(await all(parseSSEStream(streamOf(['data:{"x":1}\n\n']))), [{ x: 1 }]);
});

test("aborting parseSSEStream rejects with the reason and cancels the underlying stream", async () => {
  let cancelled = false;
  // A stream that never ends on its own.
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('data: {"n":1}\n\n'));
    },
    cancel() {
      cancelled = true;
    },
  });
  const ac = new AbortController();
  const seen: unknown[] = [];
  const reason = new Error("stop now");
  await assert.rejects(
    (async () => {
      for await (const ev of parseSSEStream(stream, ac.signal)) {
        seen.push(ev);
        ac.abort(reason);
      }
    })(),
    (e) => e === reason,
  );
  assert.deepEqual(seen, [{ n: 1 }]);
  assert.equal(cancelled, true);
});

test("breaking out of parseSSEStream early cancels the stream", async () => {
  let cancelled = false;
  const stream = streamOf(['data: {"n":1}\n\n', 'data: {"n":2}\n\n'], () => (cancelled = true));
  for await (const _ of parseSSEStream(stream)) break;
  assert.equal(cancelled, true);
});

test("asyncIterableToSSEStream round-trips through parseSSEStream", async () => {
  async function* gen() {
    yield { i: 1 };
    yield { i: 2, s: "a\nb" };
  }
  assert.deepEqual(await all(parseSSEStream(asyncIterableToSSEStream(gen()))), [{ i: 1 }, { i: 2, s: "a\nb" }]);
});
