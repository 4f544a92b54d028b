// A stand-in for a server inside a sandbox: echoes requests, serves big bodies and SSE, and
// runs a WebSocket echo (the "close:<code>" message makes it close with that code).
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { WebSocketServer } from "ws";

/** n bytes that never repeat within 64 KiB blocks and differ block to block. */
export function patternBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 16) * 7 + (i >>> 8)) & 255;
  return b;
}

export function startUpstream(): { server: Server; wss: WebSocketServer } {
  const server = createServer((req, res) => {
    const url = new URL(req.url!, "http://x");
    if (url.pathname === "/big") {
      const n = Number(url.searchParams.get("n"));
      const block = Buffer.alloc(64 * 1024, 97);
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": n });
      let left = n;
      const write = (): void => {
        while (left > 0) {
          const b = left >= block.length ? block : block.subarray(0, left);
          left -= b.length;
          if (!res.write(b)) return void res.once("drain", write);
        }
        res.end();
      };
      return write();
    }
    if (url.pathname === "/pattern") {
      // n bytes of patternBytes(): any reordered, dropped or overwritten byte changes the hash.
      const body = patternBytes(Number(url.searchParams.get("n")));
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
      return void res.end(body);
    }
    if (url.pathname === "/sse") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let i = 0;
      const t = setInterval(() => {
        res.write(`data: ${JSON.stringify({ i, t: Date.now() })}\n\n`);
        if (++i === 5) {
          clearInterval(t);
          res.end();
        }
      }, 100);
      req.on("close", () => clearInterval(t));
      return;
    }
    const hash = createHash("sha256");
    let len = 0;
    req.on("data", (c: Buffer) => {
      hash.update(c);
      len += c.length;
    });
    req.on("end", () => {
      const reply = Number(url.searchParams.get("reply") ?? 0);
      const info = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bodyLength: len, sha256: hash.digest("hex") });
      if (reply > 0) {
        res.writeHead(200, { "x-info": Buffer.from(info).toString("base64"), "content-length": reply });
        res.end(Buffer.alloc(reply, 98));
      } else {
        res.writeHead(200, { "content-type": "application/json", "x-custom": "yes" });
        res.end(req.method === "HEAD" ? undefined : info);
      }
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (ws, req) => {
    ws.send(JSON.stringify({ hello: req.url, xff: req.headers["x-forwarded-for"] ?? null }));
    ws.on("message", (data, isBinary) => {
      const s = isBinary ? "" : data.toString();
      if (s.startsWith("close:")) ws.close(Number(s.slice(6)), "bye");
      else ws.send(data, { binary: isBinary });
    });
  });
  return { server, wss };
}
