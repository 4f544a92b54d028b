// A bounded log of decoded text: keeps the newest `limit` bytes (UTF-8), counts what it dropped.

export class LogRing {
  private chunks: string[] = [];
  private bytes = 0;
  /** Bytes dropped from the front so far. */
  dropped = 0;

  constructor(readonly limit: number) {}

  push(s: string): void {
    if (!s) return;
    this.chunks.push(s);
    this.bytes += Buffer.byteLength(s);
    while (this.bytes > this.limit && this.chunks.length) {
      const first = this.chunks[0]!;
      const firstBytes = Buffer.byteLength(first);
      const excess = this.bytes - this.limit;
      if (firstBytes <= excess) {
        this.chunks.shift();
        this.bytes -= firstBytes;
        this.dropped += firstBytes;
        continue;
      }
      // Cut part of the first chunk: drop `excess` bytes, on a character boundary.
      const buf = Buffer.from(first);
      let cut = excess;
      while (cut < buf.length && (buf[cut]! & 0xc0) === 0x80) cut++;
      const rest = buf.subarray(cut).toString();
      this.chunks[0] = rest;
      this.bytes -= cut;
      this.dropped += cut;
    }
  }

  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join("")];
    return this.chunks[0] ?? "";
  }

  get size(): number {
    return this.bytes;
  }
}

/** Per-stream ring size (env ATOLL_PROCESS_LOG_BYTES, default 1 MiB). */
export function processLogBytes(): number {
  const v = Number(process.env.ATOLL_PROCESS_LOG_BYTES);
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : 1024 * 1024;
}
