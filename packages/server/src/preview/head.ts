// A small, strict HTTP/1.x request-head parser for the front door. It finds the end of the head,
// validates the request line and header fields, and works out body framing (content-length or
// chunked) so the next request on a keep-alive connection can be found. Anything ambiguous that
// could be used for request smuggling (CL+TE, differing CLs, obs-fold, bare CR/LF, spaces before
// the colon) is rejected with 400.

export const MAX_HEAD_BYTES = 64 * 1024;

export interface RequestHead {
  method: string;
  /** Request target as sent (origin-form "/path?q", absolute-form or "*"). */
  target: string;
  /** Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: 0 | 1;
  /** Header fields in order, names as sent (and lower-cased in `lower`). */
  names: string[];
  lower: string[];
  values: string[];
  host: string | undefined;
  /** -1 when there is no content-length. */
  contentLength: number;
  chunked: boolean;
  /** Connection: upgrade with an Upgrade header (e.g. WebSocket). */
  upgrade: boolean;
  /** Bytes of the head including the final CRLFCRLF (and any leading empty lines). */
  headBytes: number;
}

export class HeadError extends Error {
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const REQUEST_LINE_RE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([^\s]+) HTTP\/1\.([01])$/;
const BAD_VALUE_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
const CRLFCRLF = Buffer.from("\r\n\r\n");

/**
 * Parses the head at the start of `buf`. Returns null when more bytes are needed;
 * throws HeadError on a malformed or oversized head.
 */
export function parseRequestHead(buf: Buffer): RequestHead | null {
  // RFC 9112 §2.2: ignore empty lines before the request line.
  let start = 0;
  while (start + 1 < buf.length && buf[start] === 13 && buf[start + 1] === 10) start += 2;
  const end = buf.indexOf(CRLFCRLF, start);
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) throw new HeadError(431, "Cannot parse request: head larger than 64 KiB");
    return null;
  }
  if (end - start > MAX_HEAD_BYTES) throw new HeadError(431, "Cannot parse request: head larger than 64 KiB");
  const lines = buf.toString("latin1", start, end).split("\r\n");
  const m = REQUEST_LINE_RE.exec(lines[0]!);
  if (!m) {
    if (/ HTTP\/\d/.test(lines[0]!) && !/ HTTP\/1\.[01]$/.test(lines[0]!)) throw new HeadError(505, "Cannot parse request: only HTTP/1.0 and HTTP/1.1 are supported");
    throw new HeadError(400, "Cannot parse request: malformed request line");
  }
  const head: RequestHead = {
    method: m[1]!,
    target: m[2]!,
    minor: m[3] === "1" ? 1 : 0,
    names: [],
    lower: [],
    values: [],
    host: undefined,
    contentLength: -1,
    chunked: false,
    upgrade: false,
    headBytes: end + 4,
  };
  let hosts = 0;
  let te: string | undefined;
  let connection = "";
  let hasUpgradeHeader = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new HeadError(400, "Cannot parse request: malformed header line");
    const name = line.slice(0, colon);
    if (!TOKEN_RE.test(name)) throw new HeadError(400, "Cannot parse request: invalid header name");
    let a = colon + 1;
    let b = line.length;
    while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
    while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
    const value = line.slice(a, b);
    if (BAD_VALUE_RE.test(value)) throw new HeadError(400, "Cannot parse request: invalid character in header value");
    const lower = name.toLowerCase();
    head.names.push(name);
    head.lower.push(lower);
    head.values.push(value);
    switch (lower) {
      case "host":
        hosts++;
        head.host = value;
        break;
      case "content-length": {
        for (const part of value.split(",")) {
          const v = part.trim();
          if (!/^\d{1,15}$/.test(v)) throw new HeadError(400, "Cannot parse request: invalid content-length");
          const n = Number(v);
          if (head.contentLength >= 0 && head.contentLength !== n) throw new HeadError(400, "Cannot parse request: conflicting content-length values");
          head.contentLength = n;
        }
        break;
      }
      case "transfer-encoding":
        te = te === undefined ? value : `${te}, ${value}`;
        break;
      case "connection":
        connection += "," + value.toLowerCase();
        break;
      case "upgrade":
        hasUpgradeHeader = true;
        break;
    }
  }
  if (hosts > 1) throw new HeadError(400, "Cannot parse request: more than one Host header");
  if (head.minor === 1 && hosts === 0) throw new HeadError(400, "Cannot parse request: missing Host header");
  if (te !== undefined) {
    if (head.minor === 0) throw new HeadError(400, "Cannot parse request: transfer-encoding in an HTTP/1.0 request");
    if (head.contentLength >= 0) throw new HeadError(400, "Cannot parse request: both transfer-encoding and content-length");
    const codings = te.toLowerCase().split(",").map((s) => s.trim());
    if (codings[codings.length - 1] !== "chunked" || codings.indexOf("chunked") !== codings.length - 1) {
      throw new HeadError(501, "Cannot parse request: transfer-encoding must end with chunked");
    }
    head.chunked = true;
  }
  head.upgrade = hasUpgradeHeader && connection.split(",").some((t) => t.trim() === "upgrade");
  return head;
}

/** Whether the client asked to keep the connection open after this request. */
export function wantsKeepAlive(h: RequestHead): boolean {
  let close = h.minor === 0;
  for (let i = 0; i < h.names.length; i++) {
    if (h.lower[i] !== "connection") continue;
    for (const t of h.values[i]!.toLowerCase().split(",")) {
      const tok = t.trim();
      if (tok === "close") return false;
      if (tok === "keep-alive") close = false;
    }
  }
  return !close;
}
