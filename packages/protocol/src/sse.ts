// Server-Sent Events framing, as the Cloudflare container API uses it: "data: {json}\n\n".
export function encodeSSE(event: unknown): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** Incremental SSE parser: feed text, get the JSON payloads of complete events. */
export class SSEDecoder {
  private buf = "";
  push(text: string): unknown[] {
    this.buf += text;
    const out: unknown[] = [];
    let idx: number;
    while ((idx = this.buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = this.buf.slice(0, idx);
      const sepLen = this.buf.slice(idx).startsWith("\r\n\r\n") ? 4 : this.buf.slice(idx).startsWith("\r\n") || this.buf[idx + 1] === "\r" ? 3 : 2;
      this.buf = this.buf.slice(idx + sepLen);
      const data = block
        .split(/\r?\n/)
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data || data === "[DONE]") continue;
      try {
        out.push(JSON.parse(data));
      } catch {
        out.push(data);
      }
    }
    return out;
  }
}
