// Finds the end of a chunked message body without copying it: a byte-level state machine over
// the chunk-size lines, skipping chunk data by length. Used for request bodies (to find the next
// request on a keep-alive connection) and responses (to know when one is complete).

const enum S { SizeStart, Size, Ext, SizeLf, Data, DataCr, DataLf, TrailerStart, Trailer, TrailerLf, EndLf }

const MAX_LINE = 8 * 1024;
const MAX_SIZE_DIGITS = 13; // < 2^52 bytes per chunk

export class ChunkedError extends Error {}

export class ChunkedScanner {
  private s: S = S.SizeStart;
  private size = 0;
  private digits = 0;
  private lineLen = 0;

  /** Resets for the next message. */
  reset(): void {
    this.s = S.SizeStart;
    this.size = 0;
    this.digits = 0;
    this.lineLen = 0;
  }

  /**
   * Scans buf[start, end). Returns the index just past the message's last byte, or -1 when every
   * byte was consumed and the message is not finished. Throws ChunkedError on malformed framing.
   */
  scan(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end) {
      switch (this.s) {
        case S.Data: {
          const n = Math.min(this.size, end - i);
          i += n;
          this.size -= n;
          if (this.size === 0) this.s = S.DataCr;
          continue;
        }
        case S.SizeStart:
        case S.Size: {
          const c = buf[i]!;
          const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
          if (d >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new ChunkedError("chunk size too large");
            this.size = this.size * 16 + d;
            this.s = S.Size;
          } else if (this.s === S.Size && (c === 59 || c === 32 || c === 9)) {
            this.s = S.Ext;
            this.lineLen = 0;
          } else if (this.s === S.Size && c === 13) {
            this.s = S.SizeLf;
          } else {
            throw new ChunkedError("invalid chunk size");
          }
          break;
        }
        case S.Ext: {
          const c = buf[i]!;
          if (c === 13) this.s = S.SizeLf;
          else if (c === 10 || ++this.lineLen > MAX_LINE) throw new ChunkedError("invalid chunk extension");
          break;
        }
        case S.SizeLf:
          if (buf[i] !== 10) throw new ChunkedError("missing LF after chunk size");
          this.digits = 0;
          if (this.size === 0) {
            this.s = S.TrailerStart;
          } else {
            this.s = S.Data;
          }
          break;
        case S.DataCr:
          if (buf[i] !== 13) throw new ChunkedError("missing CRLF after chunk data");
          this.s = S.DataLf;
          break;
        case S.DataLf:
          if (buf[i] !== 10) throw new ChunkedError("missing CRLF after chunk data");
          this.s = S.SizeStart;
          this.size = 0;
          break;
        case S.TrailerStart:
          if (buf[i] === 13) this.s = S.EndLf;
          else {
            this.s = S.Trailer;
            this.lineLen = 1;
          }
          break;
        case S.Trailer: {
          const c = buf[i]!;
          if (c === 13) this.s = S.TrailerLf;
          else if (c === 10 || ++this.lineLen > MAX_LINE) throw new ChunkedError("invalid trailer");
          break;
        }
        case S.TrailerLf:
          if (buf[i] !== 10) throw new ChunkedError("invalid trailer");
          this.s = S.TrailerStart;
          break;
        case S.EndLf:
          if (buf[i] !== 10) throw new ChunkedError("missing final CRLF");
          this.reset();
          return i + 1;
      }
      i++;
    }
    return -1;
  }
}
