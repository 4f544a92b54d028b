// One client connection through the front door. Reads each request head itself (head.ts),
// routes and authorizes it (route.ts), rewrites the head (rewrite.ts) and writes it plus the raw
// body bytes to an upstream socket on the sandbox; the sandbox's bytes are piped back raw while
// ResponseTracker counts where responses end. Upgrades (WebSocket) turn the connection into a
// plain two-way pipe. Non-front-door requests hand the socket to the control plane's HTTP server.
//
// Upstream sockets are bound to one client connection and one sandbox port; they are never
// shared between clients, so one sandbox cannot answer another client's request.
import { connect, type Socket } from "node:net";
import { AtollError, ErrorCode } from "@atoll/protocol";
import type { SandboxRuntime } from "../contracts.js";
import { ChunkedError, ChunkedScanner } from "./chunked.js";
import { HeadError, parseRequestHead, type RequestHead } from "./head.js";
import { errorResponse, headErrorCode } from "./raw-response.js";
import { ResponseTracker, type PendingRequest } from "./response-tracker.js";
import { rewriteHead } from "./rewrite.js";
import { routeRequest, type RouteConfig } from "./route.js";

export interface ConnectionDeps {
  route: RouteConfig;
  runtime: SandboxRuntime;
  apiKey: string;
  proto: "http" | "https";
  /** Gives the socket (with any unread bytes unshifted) to the control plane's HTTP server. */
  handoff(socket: Socket): void;
  /** Live preview connections (for shutdown); a connection removes itself when done or handed off. */
  live: Set<FrontDoorConnection>;
  /** A request head must be complete this long after it started (or after accept): ms. */
  headTimeoutMs: number;
}

const EMPTY = Buffer.alloc(0);
const MIN_READ = 2 * 1024; // below 4 KiB allocUnsafe takes from the shared pool: cheap for small responses
const MAX_READ = 256 * 1024;
/** Bytes queued on a socket before its source is paused: keeps reads and writes overlapping. */
const QUEUE_LIMIT = 1024 * 1024;
const enum Mode { Head, BodyLength, BodyChunked, Tunnel, Done }

export class FrontDoorConnection {
  private buf: Buffer = EMPTY;
  private mode: Mode = Mode.Head;
  private bodyLeft = 0;
  private readonly scanner = new ChunkedScanner();
  private readonly tracker: ResponseTracker;
  private up: Socket | null = null;
  private upKey = "";
  private upRequests = 0;
  private release: (() => void) | null = null;
  /** Waiting for: an upstream connection, the upstream to go idle, or an upgrade answer. */
  private blocked = false;
  private waitingIdle = false;
  private awaitingUpgrade = false;
  private upNeedsDrain = false;
  private wakeup = false;
  private finished = false;
  private clientEnded = false;
  private forwardedAny = false;
  /** Head of the in-flight request, kept when it can be resent on a fresh upstream connection. */
  private retryable: { head: Buffer; req: PendingRequest; key: string; sandboxId: string; port: number } | null = null;
  private replay: typeof this.retryable = null;
  private readonly clientIp: string;
  /**
   * When the head being waited for started (Date.now()): at accept, or when the first bytes of a
   * later head arrived incomplete; 0 when no head is pending. sweepHead() enforces the deadline.
   */
  private headSince: number;

  constructor(
    private readonly client: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.tracker = new ResponseTracker({ onComplete: this.onResponseComplete, onUpgrade: this.onUpgrade });
    const ip = client.remoteAddress ?? "";
    this.clientIp = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
    this.headSince = Date.now();
    client.setNoDelay(true);
    client.on("data", this.onClientData);
    client.on("end", this.onClientEnd);
    client.on("error", this.onClientClose);
    client.on("close", this.onClientClose);
    client.on("drain", this.onClientDrain);
    deps.live.add(this);
  }

  /** Server shutdown: idle connections close now, busy ones when `force` (after the grace period). */
  shutdown(force: boolean): void {
    if (force || (this.mode !== Mode.Tunnel && this.tracker.idle)) this.close();
  }

  // ---- client side ------------------------------------------------------------------------

  private onClientData = (chunk: Buffer): void => {
    if (this.mode === Mode.Tunnel && this.buf.length === 0) {
      this.toUpstream(chunk);
      return;
    }
    if (this.mode === Mode.Done) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.pump();
  };

  private onClientEnd = (): void => {
    this.clientEnded = true;
    if (this.mode === Mode.Tunnel) this.up?.end();
    // A request body cut short can never complete: nothing sane can follow.
    else if (this.mode === Mode.BodyLength || this.mode === Mode.BodyChunked) this.close();
    // A client may half-close right after sending its requests: finish those first…
    else if (this.tracker.idle && !this.blocked) {
      // …but a head cut short by the half-close can never complete: answer and close now
      // instead of holding the socket in CLOSE-WAIT until a sweep.
      if (this.buf.length === 0) this.close();
      else this.pump();
    }
  };

  private onClientClose = (): void => this.close();

  private onClientDrain = (): void => {
    this.up?.resume();
  };

  /** Bytes seen from the client at the last idle sweep (see sweepIdle). */
  private sweepMark = -1;

  /**
   * Called by the front door's periodic sweep instead of a per-socket timer (socket timers are
   * re-armed on every read and write, which costs on the hot path). A connection with no request
   * in flight, not a tunnel, and no client bytes since the previous sweep is closed.
   */
  sweepIdle(): void {
    const seen = this.client.bytesRead;
    if (this.mode !== Mode.Tunnel && this.tracker.idle && seen === this.sweepMark) this.close();
    this.sweepMark = seen;
  }

  /**
   * Whether closing this connection loses nothing: no request in flight and waiting for a head, or
   * its final answer (e.g. a 408) already handed to the kernel and only the client's close awaited.
   */
  sheddable(): boolean {
    if (this.finished) return this.client.writableLength === 0;
    return this.mode === Mode.Head && this.tracker.idle && !this.blocked;
  }

  /**
   * Called by the front door's head sweep (every second): a head that is not complete
   * headTimeoutMs after it started (or after accept) is answered 408 REQUEST_TIMEOUT and the
   * connection closed — one header line every few seconds cannot hold a connection open.
   */
  sweepHead(now: number): void {
    if (this.finished || this.headSince === 0 || now - this.headSince < this.deps.headTimeoutMs || !this.sheddable()) return;
    this.finish(errorResponse(ErrorCode.REQUEST_TIMEOUT, `Cannot read request: the request head was not complete within ${this.deps.headTimeoutMs} ms`, { timeoutMs: this.deps.headTimeoutMs }));
  }

  private updateFlow(): void {
    if (this.finished) return;
    if (this.blocked || this.upNeedsDrain) this.client.pause();
    else this.client.resume();
  }

  /** Processes buffered client bytes until more are needed or something must be waited for. */
  private pump(): void {
    while (!this.finished && !this.blocked && this.buf.length > 0) {
      switch (this.mode) {
        case Mode.Head:
          // Waiting (more head bytes, an upstream, a response) or handed off: flow as that needs.
          // (Returning without updateFlow left a client paused by openUpstream paused for good
          // when its next head was still incomplete.)
          if (!this.startRequest()) return this.updateFlow();
          break;
        case Mode.BodyLength: {
          const n = Math.min(this.bodyLeft, this.buf.length);
          this.toUpstream(n === this.buf.length ? this.buf : this.buf.subarray(0, n));
          this.buf = n === this.buf.length ? EMPTY : this.buf.subarray(n);
          this.bodyLeft -= n;
          if (this.bodyLeft === 0) this.endOfRequest();
          break;
        }
        case Mode.BodyChunked: {
          let end: number;
          try {
            end = this.scanner.scan(this.buf, 0, this.buf.length);
          } catch (e) {
            if (!(e instanceof ChunkedError)) throw e;
            this.destroy();
            return;
          }
          if (end < 0) {
            this.toUpstream(this.buf);
            this.buf = EMPTY;
          } else {
            this.toUpstream(this.buf.subarray(0, end));
            this.buf = this.buf.subarray(end);
            this.endOfRequest();
          }
          break;
        }
        case Mode.Tunnel:
          this.toUpstream(this.buf);
          this.buf = EMPTY;
          break;
        case Mode.Done:
          this.buf = EMPTY;
          return;
      }
    }
    this.updateFlow();
  }

  /** Handles the head at the start of buf. Returns false when it must wait (or handed off). */
  private startRequest(): boolean {
    let h: RequestHead | null;
    try {
      h = parseRequestHead(this.buf);
    } catch (e) {
      if (!(e instanceof HeadError)) throw e;
      // Nothing went to a sandbox on this connection yet: let node:http answer it as the API would.
      if (!this.forwardedAny) {
        this.handoff();
        return false;
      }
      if (!this.whenIdle()) return false;
      this.finish(errorResponse(headErrorCode(e.status), e.message));
      return false;
    }
    if (!h) {
      if (this.headSince === 0) this.headSince = Date.now();
      // The client half-closed: the rest of this head will never come.
      if (this.clientEnded && this.whenIdle()) this.finish(errorResponse(ErrorCode.VALIDATION_FAILED, "Cannot parse request: the connection was closed before the request head was complete"));
      return false;
    }
    this.headSince = 0;
    const r = routeRequest(h, this.deps.route);
    if (r.kind === "pass") {
      if (this.whenIdle()) this.handoff();
      return false;
    }
    if (r.kind === "error") {
      if (this.whenIdle()) this.finish(errorResponse(r.code, r.message, r.context));
      return false;
    }
    const key = `${r.sandboxId}:${r.port}`;
    if (this.up === null || this.upKey !== key) {
      if (this.whenIdle()) this.openUpstream(r.sandboxId, r.port, key);
      return false;
    }
    const head = rewriteHead(h, { target: r.target, port: r.port, clientIp: this.clientIp, forwardedFor: r.forwardedFor, publicHost: r.publicHost, proto: r.proto ?? this.deps.proto, apiKey: this.deps.apiKey });
    const req: PendingRequest = { head: h.method === "HEAD", upgrade: h.upgrade };
    this.buf = this.buf.subarray(h.headBytes);
    this.deps.runtime.touch(r.sandboxId);
    this.tracker.push(req);
    this.upRequests++;
    this.forwardedAny = true;
    const hasBody = h.chunked || h.contentLength > 0;
    // A bodiless request on a reused upstream connection can be resent if the sandbox closed
    // that connection just before reading it (its keep-alive timeout racing our request).
    this.retryable = !hasBody && !h.upgrade && this.tracker.pending.length === 1 && this.upRequests > 1 ? { head, req, key, sandboxId: r.sandboxId, port: r.port } : null;
    this.toUpstream(head);
    if (h.upgrade) this.awaitingUpgrade = true;
    if (h.chunked) {
      this.scanner.reset();
      this.mode = Mode.BodyChunked;
    } else if (h.contentLength > 0) {
      this.bodyLeft = h.contentLength;
      this.mode = Mode.BodyLength;
    } else {
      this.endOfRequest();
    }
    return true;
  }

  private endOfRequest(): void {
    this.mode = Mode.Head;
    // Nothing after an upgrade request is HTTP until the sandbox says whether it switched.
    if (this.awaitingUpgrade) this.blocked = true;
  }

  /** True when no response is outstanding; otherwise waits for that and returns false. */
  private whenIdle(): boolean {
    if (this.tracker.idle) return true;
    this.blocked = true;
    this.waitingIdle = true;
    this.updateFlow();
    return false;
  }

  private onResponseComplete = (): void => {
    this.retryable = null;
    if (this.waitingIdle && this.tracker.idle) {
      this.waitingIdle = false;
      this.blocked = false;
      this.wakeup = true;
    }
    if (this.clientEnded && this.tracker.idle && this.buf.length === 0) this.wakeup = true;
  };

  private onUpgrade = (accepted: boolean): void => {
    this.awaitingUpgrade = false;
    this.blocked = false;
    this.wakeup = true;
    if (accepted) {
      this.mode = Mode.Tunnel;
    }
  };

  // ---- upstream side ----------------------------------------------------------------------

  private openUpstream(sandboxId: string, port: number, key: string): void {
    this.closeUpstream();
    this.blocked = true;
    this.updateFlow();
    this.deps.runtime.endpoint(sandboxId).then(
      (ep) => {
        if (this.finished) return;
        // Reads from the sandbox land in a buffer that grows while reads fill it (big downloads
        // move in up to 256 KiB steps) and shrinks back for small responses. The same buffer is
        // read into again when the client took the previous bytes synchronously (nothing holds a
        // reference): no allocation, no fresh pages to fault in, no garbage per read.
        let size = MIN_READ;
        let last = 0;
        let cur: Buffer | null = null;
        let free = false;
        const up: Socket = connect({
          host: ep.host,
          port,
          onread: {
            buffer: () => {
              if (last >= size && size < MAX_READ) size *= 2;
              else if (last < size / 8 && size > MIN_READ) size /= 2;
              if (!free || cur === null || cur.length !== size) cur = Buffer.allocUnsafe(size);
              free = false;
              return cur;
            },
            callback: (n: number, buf: Uint8Array): boolean => {
              last = n;
              free = this.onUpstreamData(up, Buffer.from(buf.buffer, buf.byteOffset, n));
              return true; // backpressure: onUpstreamData pauses `up` when the client is full
            },
          },
        });
        const onFail = (): void => {
          up.destroy();
          if (!this.finished) this.finish(errorResponse(ErrorCode.SERVICE_NOT_RESPONDING, `Cannot reach port ${port} in sandbox ${sandboxId}: nothing is listening`, { sandboxId, port }));
        };
        up.once("error", onFail);
        up.once("connect", () => {
          up.removeListener("error", onFail);
          if (this.finished) {
            up.destroy();
            return;
          }
          up.setNoDelay(true);
          this.up = up;
          this.upKey = key;
          this.upRequests = 0;
          this.release = this.deps.runtime.hold(sandboxId);
          up.on("end", () => this.onUpstreamEnd(up));
          up.on("error", () => this.onUpstreamEnd(up));
          up.on("close", () => this.onUpstreamEnd(up));
          up.on("drain", () => {
            this.upNeedsDrain = false;
            this.updateFlow();
          });
          this.blocked = false;
          const replay = this.replay;
          this.replay = null;
          if (replay) {
            this.tracker.push(replay.req);
            this.upRequests++;
            this.toUpstream(replay.head);
          }
          this.pump();
        });
      },
      (err: unknown) => {
        if (this.finished) return;
        const ae = err instanceof AtollError ? err : null;
        const code = ae && ae.code !== ErrorCode.SANDBOX_NOT_FOUND ? ae.code : ErrorCode.SANDBOX_UNAVAILABLE;
        this.finish(errorResponse(code, ae?.message ?? `Cannot start sandbox ${sandboxId}: ${(err as Error)?.message ?? String(err)}`, { sandboxId }));
      },
    );
  }

  private toUpstream(b: Buffer): void {
    if (b.length === 0 || !this.up) return;
    if (!this.up.write(b) && this.up.writableLength > QUEUE_LIMIT) {
      this.upNeedsDrain = true;
      this.client.pause();
    }
  }

  /**
   * Bytes read from the sandbox. Returns true when nothing references `chunk` any more (the
   * client socket wrote it synchronously; the tracker copies what it keeps), so its memory can
   * be read into again.
   */
  private onUpstreamData(up: Socket, chunk: Buffer): boolean {
    if (up !== this.up || this.finished) return true;
    const c = this.client;
    if (!c.write(chunk) && c.writableLength > QUEUE_LIMIT) up.pause();
    const free = c.writableLength === 0;
    if (this.mode === Mode.Tunnel) return free;
    try {
      this.tracker.feed(chunk);
    } catch {
      this.destroy(); // the sandbox's answer cannot be framed: nothing sane can follow
      return false;
    }
    if (this.wakeup) {
      this.wakeup = false;
      if (this.clientEnded && this.tracker.idle && this.buf.length === 0) this.close();
      else this.pump();
    }
    return free;
  }

  private onUpstreamEnd(up: Socket): void {
    if (up !== this.up || this.finished) return;
    if (this.mode === Mode.Tunnel) {
      this.client.end();
      this.detach();
      return;
    }
    const retry = this.retryable;
    const clean = this.tracker.upstreamEnded();
    this.detach();
    if (clean && this.tracker.idle) {
      if (this.tracker.closeAfter || this.clientEnded) this.finish(null);
      else this.pump();
      return;
    }
    if (!this.tracker.started && this.tracker.pending.length > 0) {
      if (retry && this.tracker.pending.length === 1) {
        this.tracker.pending.length = 0;
        this.replay = retry;
        this.openUpstream(retry.sandboxId, retry.port, retry.key);
        return;
      }
      this.finish(errorResponse(ErrorCode.SERVICE_NOT_RESPONDING, "Cannot get a response: the sandbox's server closed the connection", {}));
      return;
    }
    this.destroy(); // cut off mid-response
  }

  /** Forgets the upstream socket (after it ended or before switching targets). */
  private detach(): void {
    const up = this.up;
    this.up = null;
    this.upKey = "";
    this.upNeedsDrain = false;
    this.retryable = null;
    if (up) up.destroy();
    if (this.release) {
      const r = this.release;
      this.release = null;
      r();
    }
  }

  private closeUpstream(): void {
    if (this.up) this.detach();
  }

  // ---- endings ----------------------------------------------------------------------------

  private handoff(): void {
    this.finished = true;
    this.deps.live.delete(this);
    this.detach();
    const c = this.client;
    c.removeListener("data", this.onClientData);
    c.removeListener("end", this.onClientEnd);
    c.removeListener("error", this.onClientClose);
    c.removeListener("close", this.onClientClose);
    c.removeListener("drain", this.onClientDrain);
    if (this.buf.length > 0) c.unshift(this.buf);
    this.buf = EMPTY;
    this.deps.handoff(c);
    c.resume();
  }

  /** Writes a final answer (or nothing) and closes the client connection. */
  private finish(last: Buffer | null): void {
    if (this.finished) return;
    this.finished = true;
    this.mode = Mode.Done;
    this.detach();
    this.buf = EMPTY;
    if (last) this.client.end(last);
    else this.client.end();
    this.client.resume(); // drain whatever the client still sends until it closes…
    setTimeout(() => this.close(), 10_000).unref(); // …but not for ever
  }

  private close(): void {
    this.deps.live.delete(this);
    if (this.finished && this.client.destroyed) return;
    this.finished = true;
    this.mode = Mode.Done;
    this.detach();
    this.client.destroy();
  }

  private destroy(): void {
    this.close();
  }
}
