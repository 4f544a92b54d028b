// Tracks where responses end in the raw byte stream coming back from a sandbox, without copying
// it: the bytes are piped to the client as they are, and this only counts completed responses
// (so the front door knows when an upstream connection is idle), spots "101 Switching Protocols"
// (the connection becomes a tunnel) and close-delimited bodies.
import { ChunkedScanner } from "./chunked.js";

const MAX_RESPONSE_HEAD = 64 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

export interface PendingRequest {
  head: boolean; // HEAD: the response has no body
  upgrade: boolean; // asked to switch protocols
}

const enum S { Head, Length, Chunked, UntilClose, Tunnel }

export class ResponseError extends Error {}

const CL_RE = /^\s*\d{1,15}\s*$/;

/** "HTTP/1.x NNN[ reason]" without a regex (this runs once per response). */
function statusLine(text: string): { minor: number; status: number } {
  const ok =
    text.startsWith("HTTP/1.") &&
    (text.charCodeAt(7) === 48 || text.charCodeAt(7) === 49) &&
    text.charCodeAt(8) === 32 &&
    isDigit(text.charCodeAt(9)) &&
    isDigit(text.charCodeAt(10)) &&
    isDigit(text.charCodeAt(11)) &&
    (text.length === 12 || text.charCodeAt(12) === 32);
  if (!ok) throw new ResponseError("malformed status line");
  return { minor: text.charCodeAt(7) - 48, status: (text.charCodeAt(9) - 48) * 100 + (text.charCodeAt(10) - 48) * 10 + (text.charCodeAt(11) - 48) };
}
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

export class ResponseTracker {
  readonly pending: PendingRequest[] = [];
  private s: S = S.Head;
  private remaining = 0;
  private partial: Buffer | null = null;
  private readonly chunked = new ChunkedScanner();
  /** Bytes of the current response received so far (0: the sandbox has not started answering). */
  started = false;
  /** The last completed response carried "Connection: close". */
  closeAfter = false;

  constructor(private readonly events: { onComplete(): void; onUpgrade(accepted: boolean): void }) {}

  get idle(): boolean {
    return this.pending.length === 0 && this.s === S.Head && this.partial === null;
  }
  get tunnel(): boolean {
    return this.s === S.Tunnel;
  }
  get untilClose(): boolean {
    return this.s === S.UntilClose;
  }

  push(req: PendingRequest): void {
    this.pending.push(req);
  }

  /** Feeds bytes from the sandbox. Throws ResponseError when the stream cannot be framed. */
  feed(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.s) {
        case S.Tunnel:
        case S.UntilClose:
          return;
        case S.Length: {
          const k = Math.min(this.remaining, n - i);
          i += k;
          this.remaining -= k;
          if (this.remaining === 0) this.complete();
          break;
        }
        case S.Chunked: {
          const end = this.chunked.scan(chunk, i, n);
          if (end < 0) return;
          i = end;
          this.complete();
          break;
        }
        case S.Head: {
          if (this.pending.length === 0) throw new ResponseError("response without a request");
          this.started = true;
          let buf = chunk;
          let from = i;
          if (this.partial) {
            buf = Buffer.concat([this.partial, chunk.subarray(i)]);
            from = 0;
          }
          // Search from a few bytes before the new data in case CRLFCRLF straddles the boundary.
          const end = buf.indexOf(CRLFCRLF, from);
          if (end < 0) {
            if (buf.length - from > MAX_RESPONSE_HEAD) throw new ResponseError("response head too large");
            this.partial = Buffer.from(buf.subarray(from));
            return;
          }
          const consumedFromChunk = this.partial ? end + 4 - this.partial.length : end + 4 - i;
          this.partial = null;
          this.onHead(buf.toString("latin1", from, end));
          i += consumedFromChunk;
          break;
        }
      }
    }
  }

  /** The sandbox closed its side: ends a close-delimited body. Returns true if that was clean. */
  upstreamEnded(): boolean {
    if (this.s === S.UntilClose) {
      this.s = S.Head;
      this.closeAfter = true;
      this.pending.shift();
      this.started = false;
      this.events.onComplete();
      return true;
    }
    return this.s === S.Tunnel || this.idle;
  }

  private onHead(text: string): void {
    const { minor, status } = statusLine(text);
    const req = this.pending[0]!;
    if (status === 101) {
      if (!req.upgrade) throw new ResponseError("101 for a request that did not ask to upgrade");
      this.s = S.Tunnel;
      this.pending.shift();
      this.events.onUpgrade(true);
      return;
    }
    if (status < 200) return; // 100 Continue, 103 Early Hints: the final response follows
    let cl = -1;
    let chunked = false;
    let close = minor === 0;
    // Only three fields matter for framing: find them in one lower-cased copy of the head.
    const lower = text.toLowerCase();
    for (let k = lower.indexOf("\r\ncontent-length:"); k >= 0; k = lower.indexOf("\r\ncontent-length:", k + 2)) {
      const eol = lower.indexOf("\r\n", k + 2);
      const value = lower.slice(k + 17, eol < 0 ? undefined : eol);
      for (const part of value.includes(",") ? value.split(",") : [value]) {
        if (!CL_RE.test(part)) throw new ResponseError("invalid content-length");
        const x = Number(part);
        if (cl >= 0 && cl !== x) throw new ResponseError("conflicting content-length");
        cl = x;
      }
    }
    for (let k = lower.indexOf("\r\ntransfer-encoding:"); k >= 0; k = lower.indexOf("\r\ntransfer-encoding:", k + 2)) {
      const eol = lower.indexOf("\r\n", k + 2);
      const codings = lower.slice(k + 20, eol < 0 ? undefined : eol).split(",");
      chunked = codings[codings.length - 1]!.trim() === "chunked";
    }
    for (let k = lower.indexOf("\r\nconnection:"); k >= 0; k = lower.indexOf("\r\nconnection:", k + 2)) {
      const eol = lower.indexOf("\r\n", k + 2);
      const v = lower.slice(k + 13, eol < 0 ? undefined : eol);
      if (/(^|,)\s*close\s*(,|$)/.test(v)) close = true;
      else if (minor === 0 && /(^|,)\s*keep-alive\s*(,|$)/.test(v)) close = false;
    }
    this.closeAfter = close;
    if (req.upgrade) this.events.onUpgrade(false);
    if (req.head || status === 204 || status === 304) return this.complete();
    if (chunked) {
      this.chunked.reset();
      this.s = S.Chunked;
    } else if (cl >= 0) {
      if (cl === 0) return this.complete();
      this.remaining = cl;
      this.s = S.Length;
    } else {
      this.s = S.UntilClose;
    }
  }

  private complete(): void {
    this.s = S.Head;
    this.pending.shift();
    this.started = false;
    this.events.onComplete();
  }
}
