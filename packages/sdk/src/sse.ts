// Server-Sent Events parsing for the agent's streams ("data: {json}\n\n").
// Works on any WHATWG ReadableStream (fetch bodies in Node, Bun, Deno, Workers).
import { SSEParser } from "@atoll/protocol";

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/**
 * Parses a stream of SSE events into JSON values. Events that are not JSON, and "[DONE]"
 * markers, are skipped. Aborting `signal` stops iteration (throws its reason) and cancels the stream.
 */
export async function* parseSSEStream<T = unknown>(stream: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<T> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  const onAbort = () => void reader.cancel(abortReason(signal!)).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let finished = false;
  try {
    if (signal?.aborted) throw abortReason(signal);
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw abortReason(signal);
      const payloads = done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(value, { stream: true }));
      for (const p of payloads) {
        if (p === "[DONE]" || p.trim() === "") continue;
        let v: T;
        try {
          v = JSON.parse(p) as T;
        } catch {
          continue;
        }
        yield v;
      }
      if (done) {
        finished = true;
        return;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    // Consumer stopped early (break/throw/abort): cancel so the server sees the disconnect.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** parseSSEStream over a Response body (throws when the response is not ok). */
export async function* responseToAsyncIterable<T = unknown>(response: Response, signal?: AbortSignal): AsyncGenerator<T> {
  if (!response.ok) throw new Error(`Cannot read event stream: HTTP ${response.status} ${response.statusText}`);
  if (!response.body) throw new Error("Cannot read event stream: the response has no body");
  yield* parseSSEStream<T>(response.body, signal);
}

/** Encodes an async iterable as an SSE byte stream (e.g. to forward events from a Worker). */
export function asyncIterableToSSEStream<T>(events: AsyncIterable<T>, options: { signal?: AbortSignal; serialize?: (e: T) => string } = {}): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const serialize = options.serialize ?? ((e: T) => JSON.stringify(e));
  const it = events[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (options.signal?.aborted) {
        controller.error(abortReason(options.signal));
        return;
      }
      try {
        const { done, value } = await it.next();
        if (done) {
          controller.enqueue(enc.encode("data: [DONE]\n\n"));
          controller.close();
        } else {
          controller.enqueue(enc.encode(`data: ${serialize(value)}\n\n`));
        }
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}
