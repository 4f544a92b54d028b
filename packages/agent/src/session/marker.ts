// Finds the end-of-command marker in a shell output stream.
// The marker is NUL "__ATOLL_<token>:" <exit code> NUL, printed by the shell after each command on
// both stdout and stderr. A marker may be split across chunks, so a tail that could be the start
// of one is held back until the next chunk decides.

export interface ScanResult {
  /** Output that belongs to the command (may be empty). */
  data: Buffer;
  /** Set once the marker was seen: the exit status it carried. */
  exitCode?: number;
}

export class MarkerScanner {
  private readonly head: Buffer;
  private held: Buffer = Buffer.alloc(0);
  done = false;

  constructor(token: string) {
    this.head = Buffer.from(`\0__ATOLL_${token}:`);
  }

  push(chunk: Buffer): ScanResult {
    if (this.done) return { data: Buffer.alloc(0) };
    const buf = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const i = buf.indexOf(this.head);
    if (i >= 0) {
      const end = buf.indexOf(0, i + this.head.length);
      if (end >= 0) {
        this.done = true;
        const code = Number(buf.subarray(i + this.head.length, end).toString("latin1"));
        return { data: buf.subarray(0, i), exitCode: Number.isFinite(code) ? code : 1 };
      }
      // Marker head seen but its terminating NUL not yet: hold from the marker on.
      this.held = Buffer.from(buf.subarray(i));
      return { data: buf.subarray(0, i) };
    }
    // Hold back the longest suffix that is a prefix of the marker head.
    const from = Math.max(0, buf.length - this.head.length + 1);
    let k = buf.indexOf(0, from);
    while (k >= 0) {
      const tail = buf.subarray(k);
      if (this.head.subarray(0, tail.length).equals(tail)) {
        this.held = Buffer.from(tail);
        return { data: buf.subarray(0, k) };
      }
      k = buf.indexOf(0, k + 1);
    }
    return { data: buf };
  }

  /** Whatever was held back (used when the stream ends without a marker). */
  flush(): Buffer {
    const h = this.held;
    this.held = Buffer.alloc(0);
    return h;
  }
}
