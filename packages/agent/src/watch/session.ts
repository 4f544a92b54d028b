// One /api/watch request: a TreeWatcher whose events go out as SSE, released when the client leaves.
import fsp from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { AtollError, ErrorCode, encodeSSE, type WatchEvent } from "@atoll/protocol";
import { TreeWatcher } from "./tree-watcher.js";

const HEARTBEAT_MS = 15_000;
/** Unsent event bytes allowed for a slow client before the stream is ended with an error. */
const MAX_BUFFERED = 4 * 1024 * 1024;
/** Watches open at once in this agent (each holds inotify watches). */
const MAX_WATCHES = 64;
let active = 0;

export async function serveWatch(root: string, recursive: boolean, includeHidden: boolean, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const st = await fsp.stat(root);
  if (!st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot watch ${root}: not a directory`, { path: root });
  if (active >= MAX_WATCHES) throw new AtollError(ErrorCode.LIMIT_EXCEEDED, `Cannot watch ${root}: ${MAX_WATCHES} watches are already open`, { limit: MAX_WATCHES });
  active++;
  let finished = false;
  const now = () => new Date().toISOString();
  // Events seen while watchers are still being installed wait for the "ready" event.
  let early: WatchEvent[] | null = [];
  const send = (ev: WatchEvent) => {
    if (finished) return;
    if (early) return void early.push(ev);
    res.write(encodeSSE(ev));
    if (res.writableLength > MAX_BUFFERED) {
      // The client does not keep up: say so and end, rather than buffer without bound.
      res.write(encodeSSE({ type: "error", code: ErrorCode.LIMIT_EXCEEDED, error: `Cannot watch ${root}: the client is not reading events fast enough`, timestamp: now() } satisfies WatchEvent));
      finish(true);
    }
  };
  const watcher = new TreeWatcher(root, {
    recursive,
    includeHidden,
    onEvent: (e) => send({ ...e, timestamp: now() } as WatchEvent),
    onError: (e) => send({ type: "error", error: e.message, timestamp: now() }),
    onRootGone: () => finish(true),
  });
  const heartbeat = setInterval(() => {
    if (!finished && !early) res.write(": keep-alive\n\n");
  }, HEARTBEAT_MS);
  function finish(endResponse: boolean) {
    if (finished) return;
    finished = true;
    active--;
    clearInterval(heartbeat);
    watcher.close();
    if (endResponse && !res.destroyed) res.end();
  }
  // The client going away (or any socket error) releases every watcher.
  res.on("close", () => finish(false));
  req.on("error", () => finish(false));
  try {
    await watcher.start();
  } catch (e) {
    finish(false);
    throw e;
  }
  if (finished) return;
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" });
  res.write(encodeSSE({ type: "ready", path: root, timestamp: now() } satisfies WatchEvent));
  const queued = early;
  early = null;
  for (const ev of queued) send(ev);
}
