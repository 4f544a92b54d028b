// The front door's parsers on their own: request heads (strictness against smuggling), the
// chunked scanner and the response tracker fed at every split point.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ChunkedError, ChunkedScanner } from "../src/preview/chunked.js";
import { HeadError, parseRequestHead, wantsKeepAlive } from "../src/preview/head.js";
import { ResponseTracker } from "../src/preview/response-tracker.js";
import { originForm, rewriteHead } from "../src/preview/rewrite.js";
import { routeRequest } from "../src/preview/route.js";

const B = (s: string) => Buffer.from(s, "latin1");
const status = (s: string): number => {
  try {
    parseRequestHead(B(s));
  } catch (e) {
    return (e as HeadError).status;
  }
  return 0;
};

describe("request head", () => {
  it("parses a normal head; incomplete → null", () => {
    const h = parseRequestHead(B("\r\nPOST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A:  v  \r\n\r\nhello"))!;
    assert.equal(h.method, "POST");
    assert.equal(h.target, "/a?b=1");
    assert.equal(h.contentLength, 5);
    assert.equal(h.values[2], "v");
    assert.equal(h.headBytes, B("\r\nPOST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A:  v  \r\n\r\n").length);
    assert.equal(parseRequestHead(B("GET / HTTP/1.1\r\nHost: x\r\n")), null);
  });

  it("rejects smuggling shapes and junk", () => {
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 501);
    assert.equal(status("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\ny: z\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    assert.equal(status("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assert.equal(status("GET / HTTP/1.1\r\nHost: " + "a".repeat(70_000) + "\r\n\r\n"), 431);
    assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\n" + "a".repeat(70_000)), 431);
  });

  it("upgrade and keep-alive detection", () => {
    const up = parseRequestHead(B("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"))!;
    assert.equal(up.upgrade, true);
    assert.equal(parseRequestHead(B("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n"))!.upgrade, false);
    assert.equal(wantsKeepAlive(parseRequestHead(B("GET / HTTP/1.0\r\n\r\n"))!), false);
    assert.equal(wantsKeepAlive(parseRequestHead(B("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))!), true);
    assert.equal(wantsKeepAlive(parseRequestHead(B("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))!), false);
  });

  it("absolute-form targets route by their authority", () => {
    assert.equal(originForm("http://h:1/p?q"), "/p?q");
    assert.equal(originForm("http://h"), "/");
    const h = parseRequestHead(B(`GET http://8080-box-${"a".repeat(16)}.localhost:1/x HTTP/1.1\r\nHost: other\r\n\r\n`))!;
    const r = routeRequest(h, { domains: ["localhost"], apiKey: "k", ports: { authorize: () => true } });
    assert.equal(r.kind, "forward");
    assert.equal(r.kind === "forward" && r.target, "/x");
  });

  it("rewrite: Host, X-Forwarded-*, the API key and X-Atoll-* handled", () => {
    const h = parseRequestHead(B("GET / HTTP/1.1\r\nHost: pub\r\nX-Forwarded-For: 1.1.1.1\r\nAuthorization: bearer   KEY\r\nX-Atoll-Preview-Token: t\r\nCookie: c=1\r\n\r\n"))!;
    const out = rewriteHead(h, { target: "/", port: 8080, clientIp: "10.0.0.9", publicHost: "pub", proto: "http", apiKey: "KEY" }).toString();
    assert.equal(out, "GET / HTTP/1.1\r\nHost: localhost:8080\r\nCookie: c=1\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Host: pub\r\nX-Forwarded-Proto: http\r\n\r\n");
  });

  it("rewrite: the API key inside Proxy-Authorization or a multi-value Authorization is dropped; app credentials pass", () => {
    const fields = [
      "Proxy-Authorization: Bearer KEY", "Authorization: Basic dTpw, Bearer KEY", "Authorization: Bearer KEY, Basic dTpw",
      'Authorization: Bearer "KEY"', "Proxy-Authorization: Basic x,Bearer KEY", "Authorization: Bearer app-token", "Proxy-Authorization: Basic dTpw",
    ];
    const h = parseRequestHead(B(`GET / HTTP/1.1\r\nHost: pub\r\n${fields.join("\r\n")}\r\n\r\n`))!;
    const out = rewriteHead(h, { target: "/", port: 8080, clientIp: "10.0.0.9", publicHost: "pub", proto: "http", apiKey: "KEY" }).toString();
    assert.ok(!out.includes("KEY"), out);
    assert.ok(out.includes("\r\nAuthorization: Bearer app-token\r\n") && out.includes("\r\nProxy-Authorization: Basic dTpw\r\n"), out);
  });
});

describe("chunked scanner", () => {
  const body = B("5;ext=1\r\nhello\r\n0a\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT");
  it("finds the end at every split point", () => {
    for (let cut = 0; cut <= body.length; cut++) {
      const s = new ChunkedScanner();
      const first = s.scan(body, 0, cut);
      const end = first >= 0 ? first : s.scan(body, cut, body.length);
      assert.equal(end, body.length - 4, `cut ${cut}`);
    }
  });
  it("rejects bad framing", () => {
    for (const bad of ["x\r\n", "5\r\nhelloXX", "5\nhello\r\n", "\r\n", "ffffffffffffffff\r\n"]) {
      assert.throws(() => new ChunkedScanner().scan(B(bad), 0, bad.length), ChunkedError, bad);
    }
  });
});

describe("response tracker", () => {
  const stream = B(
    "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" +
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + // HEAD: no body follows
      "HTTP/1.1 204 No Content\r\n\r\n" +
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nFRAMES",
  );
  it("counts completions and spots the upgrade at every split point", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      let done = 0;
      let upgraded = false;
      const t = new ResponseTracker({ onComplete: () => done++, onUpgrade: (ok) => (upgraded = ok) });
      t.push({ head: false, upgrade: false });
      t.push({ head: false, upgrade: false });
      t.push({ head: true, upgrade: false });
      t.push({ head: false, upgrade: false });
      t.push({ head: false, upgrade: true });
      t.feed(stream.subarray(0, cut));
      t.feed(stream.subarray(cut));
      assert.equal(done, 4, `cut ${cut}`);
      assert.equal(upgraded, true);
      assert.equal(t.tunnel, true);
    }
  });
  it("close-delimited bodies end with the upstream", () => {
    let done = 0;
    const t = new ResponseTracker({ onComplete: () => done++, onUpgrade: () => undefined });
    t.push({ head: false, upgrade: false });
    t.feed(B("HTTP/1.0 200 OK\r\n\r\nsome body"));
    assert.equal(t.untilClose, true);
    assert.equal(t.upstreamEnded(), true);
    assert.equal(done, 1);
    assert.equal(t.closeAfter, true);
  });
  it("rejects a response nobody asked for and a 101 without an upgrade request", () => {
    assert.throws(() => new ResponseTracker({ onComplete: () => undefined, onUpgrade: () => undefined }).feed(B("HTTP/1.1 200 OK\r\n\r\n")));
    const t = new ResponseTracker({ onComplete: () => undefined, onUpgrade: () => undefined });
    t.push({ head: false, upgrade: false });
    assert.throws(() => t.feed(B("HTTP/1.1 101 Switching\r\n\r\n")));
  });
  it("status lines: HTTP/1.0 and 1.1, three digits, reason optional; anything else is rejected", () => {
    const feed = (head: string): number => {
      let done = 0;
      const t = new ResponseTracker({ onComplete: () => done++, onUpgrade: () => undefined });
      t.push({ head: false, upgrade: false });
      t.feed(B(head + "\r\nContent-Length: 0\r\n\r\n"));
      return done;
    };
    for (const ok of ["HTTP/1.1 200 OK", "HTTP/1.0 404 Not Found", "HTTP/1.1 599 ", "HTTP/1.1 204 x y"]) assert.equal(feed(ok), 1, ok);
    for (const bad of ["HTTP/1.2 200 OK", "HTTP/2.0 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 2x0 OK", "HTTP/1.1  200 OK", "http/1.1 200 OK", "HTTP/1.1 200\tOK"]) {
      assert.throws(() => feed(bad), Error, bad);
    }
  });
});

describe("routing", () => {
  it("a repeated preview host is parsed once but its token is checked on every request", () => {
    const host = `8080-box-${"a".repeat(16)}.localhost:1`;
    let allowed = true;
    let checks = 0;
    const cfg = { domains: ["localhost"], apiKey: "k", ports: { authorize: () => (checks++, allowed) } };
    const h = parseRequestHead(B(`GET /x HTTP/1.1\r\nHost: ${host}\r\n\r\n`))!;
    assert.equal(routeRequest(h, cfg).kind, "forward");
    allowed = false; // unexposed between two requests on the same connection
    const r = routeRequest(h, cfg);
    assert.equal(r.kind === "error" && r.code, "INVALID_TOKEN");
    assert.equal(checks, 2);
    const other = parseRequestHead(B(`GET /x HTTP/1.1\r\nHost: api.example.com\r\n\r\n`))!;
    assert.equal(routeRequest(other, cfg).kind, "pass");
    assert.equal(routeRequest(other, cfg).kind, "pass");
  });
});
