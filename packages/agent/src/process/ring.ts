// A bounded log of a process's output bytes: keeps the newest `limit` bytes in one circular
// buffer (grown on demand up to `limit`, shrunk to fit when the process ends), counts what it
// dropped. Storing bytes in place, not a list of chunks, keeps the agent's heap flat however much a
// process prints: nothing per chunk outlives the read that produced it, so the garbage collector
// never has to promote and later sweep hundreds of MiB of old output.
// Positions are absolute byte offsets into everything ever pushed; readers keep a cursor and
// catch up with since(). Text is UTF-8: a character split across reads is readable once complete
// (or once the ring is sealed, as U+FFFD).

const MIN_CAPACITY = 4096;

export class LogRing {
  private buf = Buffer.alloc(0);
  /** Bytes ever pushed (absolute offset just past the newest byte). */
  private total = 0;
  /** Trailing bytes of an incomplete UTF-8 character, held back from readers until complete. */
  private pending = 0;

  constructor(readonly limit: number) {}

  /** Absolute offset of the oldest byte kept. */
  private get start(): number {
    return Math.max(0, this.total - Math.min(this.limit, this.buf.length));
  }

  private at(p: number): number {
    return this.buf[p % this.buf.length]!;
  }

  /** Copies absolute range [from, to) (kept bytes only) into a new linear buffer. */
  private copyOut(from: number, to: number): Buffer {
    const cap = this.buf.length;
    const out = Buffer.allocUnsafe(to - from);
    let o = 0;
    for (let p = from; p < to; ) {
      const i = p % cap;
      const n = Math.min(to - p, cap - i);
      this.buf.copy(out, o, i, i + n);
      o += n;
      p += n;
    }
    return out;
  }

  private writeIn(from: number, data: Buffer): void {
    const cap = this.buf.length;
    let o = 0;
    while (o < data.length) {
      const i = (from + o) % cap;
      const n = Math.min(data.length - o, cap - i);
      data.copy(this.buf, i, o, o + n);
      o += n;
    }
  }

  private resize(cap: number): void {
    const from = this.total - Math.min(this.total, this.buf.length, cap);
    const keep = this.buf.length ? this.copyOut(from, this.total) : Buffer.alloc(0);
    this.buf = Buffer.allocUnsafe(cap);
    if (cap > 0) this.writeIn(from, keep);
  }

  push(b: Buffer): void {
    if (!b.length) return;
    const want = Math.min(this.limit, this.total + b.length);
    if (this.buf.length < want) this.resize(Math.min(this.limit, Math.max(want, this.buf.length * 2, MIN_CAPACITY)));
    const cap = this.buf.length;
    if (b.length >= cap) this.writeIn(this.total + b.length - cap, b.subarray(b.length - cap));
    else this.writeIn(this.total, b);
    this.total += b.length;
    this.pending = this.incompleteTail();
  }

  /** How many trailing bytes form the start of a UTF-8 character whose rest has not arrived. */
  private incompleteTail(): number {
    const start = this.start;
    for (let i = 1; i <= 4 && this.total - i >= start; i++) {
      const c = this.at(this.total - i);
      if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
      if (c < 0xc0) return 0; // ASCII
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return i < len ? i : 0;
    }
    return 0;
  }

  /** The process ended: what is held back becomes readable; the buffer shrinks to its content. */
  seal(): void {
    this.pending = 0;
    const kept = this.total - this.start;
    if (this.buf.length > kept) this.resize(kept);
  }

  /** Absolute offset of the first readable byte: the oldest kept, past a cut character. */
  private get first(): number {
    let p = this.start;
    if (p > 0) for (let i = 0; i < 3 && p < this.total && (this.at(p) & 0xc0) === 0x80; i++) p++;
    return p;
  }

  /** Bytes dropped from the front so far (a character cut in half counts as dropped). */
  get dropped(): number {
    return this.first;
  }

  /** Absolute offset just past the newest readable byte: a reader that got here is up to date. */
  get end(): number {
    return this.total - this.pending;
  }

  /** Bytes kept. */
  get size(): number {
    return this.total - this.start;
  }

  /** The readable text from absolute offset `from` (a reader's cursor) to the end; from the
   *  oldest byte kept when `from` was dropped already. */
  since(from: number): string {
    return this.read(from, Infinity).text;
  }

  /** Like since(), at most `max` bytes (ending on a character boundary); `end` is the new cursor. */
  read(from: number, max: number): { text: string; end: number } {
    const f = Math.max(from, this.first);
    let e = this.end;
    if (f >= e) return { text: "", end: Math.max(from, e) };
    if (e - f > max) {
      e = f + max;
      for (let i = 0; i < 3 && e > f + 1 && (this.at(e) & 0xc0) === 0x80; i++) e--;
    }
    return { text: this.copyOut(f, e).toString("utf8"), end: e };
  }

  text(): string {
    return this.since(0);
  }
}

/** Per-stream ring size (env ATOLL_PROCESS_LOG_BYTES, default 1 MiB). */
export function processLogBytes(): number {
  const v = Number(process.env.ATOLL_PROCESS_LOG_BYTES);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : 1024 * 1024;
}
