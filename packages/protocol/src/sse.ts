// Server-Sent Events framing, as the Cloudflare container API uses it: "data: {json}\n\n".
// One parser for every side (SDK streams, tests, benches): line-based per the SSE spec, so
// CRLF and LF line ends, "data:" with or without its space, multi-line data and comments work.
export function encodeSSE(event: unknown): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** Incremental SSE parser: feed text, get each completed event's joined `data` payload. */
export class SSEParser {
  private buf = "";
  private data: string[] = [];

  /** Feeds text; returns the data payloads of the events completed by it. */
  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    let nl: number;
    while ((nl = this.buf.indexOf("\n")) >= 0) {
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line === "") {
        if (this.data.length) out.push(this.data.join("\n"));
        this.data = [];
      } else if (line.startsWith("data:")) {
        this.data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      }
      // "event:", "id:", "retry:" and ":" comments carry nothing the agent uses.
    }
    return out;
  }

  /** Flushes an event left unterminated at end of stream. */
  end(): string[] {
    const out = this.push("\n\n");
    this.buf = "";
    return out;
  }
}

/** SSEParser plus JSON: payloads parsed as JSON (kept as text when not JSON); empty and "[DONE]" skipped. */
export class SSEDecoder {
  private parser = new SSEParser();
  push(text: string): unknown[] {
    return this.parser.push(text).flatMap(decodePayload);
  }
  end(): unknown[] {
    return this.parser.end().flatMap(decodePayload);
  }
}

function decodePayload(p: string): unknown[] {
  if (p.trim() === "" || p === "[DONE]") return [];
  try {
    return [JSON.parse(p)];
  } catch {
    return [p];
  }
}
