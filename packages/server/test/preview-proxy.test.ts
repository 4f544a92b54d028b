// The front door against a local upstream: methods, bodies, keep-alive, SSE, WebSocket,
// hand-off to the control plane's HTTP server, and the security rules.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Agent, request } from "node:http";
import { connect, createServer as createNetServer } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { API_KEY, expose, listen, send, startRig, type Rig } from "./preview-helpers.js";
import { sseArrivals } from "./http-client.js";
import { patternBytes, startUpstream } from "./preview-upstream.js";

let rig: Rig;
let up: ReturnType<typeof startUpstream>;
let upPort: number;
let host: string;
let token: string;
const ID = "my-box-1";
const extra: import("node:http").Server[] = [];
/** A further upstream, closed after the tests. */
function extraUpstream(): import("node:http").Server {
  const s = startUpstream().server;
  extra.push(s);
  return s;
}

before(async () => {
  rig = await startRig();
  up = startUpstream();
  upPort = await listen(up.server);
  ({ host, token } = expose(rig, ID, upPort));
});
after(async () => {
  for (const c of up.wss.clients) c.terminate();
  up.server.closeAllConnections();
  up.server.close();
  for (const s of extra) {
    s.closeAllConnections();
    s.close();
  }
  await rig.close();
});

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

describe("preview HTTP", () => {
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
    it(`${method} with headers and a 1 MiB body each way`, async () => {
      const body = Buffer.alloc(1024 * 1024, method.charCodeAt(0));
      const r = await send(rig.doorPort, host, { method, path: `/echo?reply=${1024 * 1024}`, headers: { "x-test": "v1", "content-length": String(body.length) }, body });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 1024 * 1024);
      const info = JSON.parse(Buffer.from(String(r.headers["x-info"]), "base64").toString());
      assert.equal(info.method, method);
      assert.equal(info.url, `/echo?reply=${1024 * 1024}`);
      assert.equal(info.headers["x-test"], "v1");
      assert.equal(info.bodyLength, body.length);
      assert.equal(info.sha256, sha(body));
    });
  }

  it("large responses arrive intact to fast and slow readers at once (read buffers are reused)", async () => {
    const n = 12 * 1024 * 1024 + 12345;
    const want = sha(patternBytes(n));
    // A slow reader makes the front door's client writes pending, so its read buffer must not be reused.
    const fetchHash = (slow: boolean): Promise<{ status: number; len: number; hash: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: rig.doorPort, path: `/pattern?n=${n}`, headers: { host }, agent: false }, (res) => {
          const h = createHash("sha256");
          let len = 0;
          let sincePause = 0;
          res.on("data", (c: Buffer) => {
            h.update(c);
            len += c.length;
            sincePause += c.length;
            if (slow && sincePause >= 256 * 1024) {
              sincePause = 0;
              res.pause();
              setTimeout(() => res.resume(), 2);
            }
          });
          res.on("end", () => resolve({ status: res.statusCode!, len, hash: h.digest("hex") }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
    const results = await Promise.all([fetchHash(false), fetchHash(true), fetchHash(false), fetchHash(true)]);
    for (const r of results) assert.deepEqual(r, { status: 200, len: n, hash: want });
  });

  it("HEAD has no body and keeps the connection usable", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const a = await send(rig.doorPort, host, { method: "HEAD", path: "/echo", agent });
    assert.equal(a.status, 200);
    assert.equal(a.body.length, 0);
    const b = await send(rig.doorPort, host, { path: "/echo", agent });
    assert.equal(JSON.parse(b.body.toString()).method, "GET");
    agent.destroy();
  });

  it("keep-alive: many requests on one connection, each rewritten", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const seen = new Set<unknown>();
    for (let i = 0; i < 20; i++) {
      const r = await send(rig.doorPort, host, { path: `/echo?i=${i}`, agent, headers: { "x-forwarded-for": "6.6.6.6" } });
      const info = JSON.parse(r.body.toString());
      assert.equal(info.url, `/echo?i=${i}`);
      assert.equal(info.headers["x-forwarded-for"], "127.0.0.1");
      seen.add(r.headers["x-custom"]);
    }
    assert.deepEqual([...seen], ["yes"]);
    agent.destroy();
  });

  it("pipelined requests on one raw socket are answered in order", async () => {
    const s = connect(rig.doorPort, "127.0.0.1");
    const reqs = [0, 1, 2].map((i) => `GET /echo?p=${i} HTTP/1.1\r\nHost: ${host}\r\n\r\n`).join("");
    s.write(reqs + `GET /echo?p=3 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const order = [...text.matchAll(/\/echo\?p=(\d)/g)].map((m) => m[1]);
    assert.deepEqual(order, ["0", "1", "2", "3"]);
  });

  it("a pipelined head longer than one read is still read after the upstream connects (431 HEADERS_TOO_LARGE when over 64 KiB)", { timeout: 10_000 }, async () => {
    // The first read ends inside the second head; the client was paused while the upstream
    // connected and must be resumed although that head is incomplete.
    const s = connect(rig.doorPort, "127.0.0.1");
    s.write(`GET /echo?p=0 HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /echo?p=1 HTTP/1.1\r\nHost: ${host}\r\nX: ${"a".repeat(100 * 1024)}\r\n\r\n`);
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    assert.match(text, /^HTTP\/1\.1 200 /);
    const last = text.slice(text.lastIndexOf("HTTP/1.1 "));
    assert.match(last, /^HTTP\/1\.1 431 /);
    const body = JSON.parse(last.slice(last.indexOf("\r\n\r\n") + 4));
    assert.deepEqual([body.code, body.httpStatus], ["HEADERS_TOO_LARGE", 431]);
  });

  it("chunked upload streams through", async () => {
    const r = await new Promise<{ info: { bodyLength: number; sha256: string; headers: Record<string, string> } }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: rig.doorPort, method: "POST", path: "/echo", headers: { host }, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve({ info: JSON.parse(Buffer.concat(parts).toString()) }));
      });
      req.on("error", reject);
      const h = createHash("sha256");
      for (let i = 0; i < 50; i++) {
        const part = Buffer.alloc(10_000 + i, i);
        h.update(part);
        req.write(part);
      }
      req.end();
      (req as unknown as { expected: string }).expected = h.digest("hex");
    });
    assert.equal(r.info.headers["transfer-encoding"], "chunked");
    assert.equal(r.info.bodyLength, 50 * 10_000 + (49 * 50) / 2);
  });

  it("100 MiB download", async () => {
    const n = 100 * 1024 * 1024;
    const t0 = performance.now();
    const got = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: rig.doorPort, path: `/big?n=${n}`, headers: { host }, agent: false }, (res) => {
        let len = 0;
        res.on("data", (c: Buffer) => (len += c.length));
        res.on("end", () => resolve(len));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(got, n);
    const ms = performance.now() - t0;
    console.log(`# 100 MiB through the front door: ${(n / 1e6 / (ms / 1000)).toFixed(0)} MB/s`);
  });

  it("SSE events arrive one by one", async () => {
    const { headers, arrivals } = await sseArrivals(rig.doorPort, host, "/sse");
    assert.equal(headers["content-type"], "text/event-stream");
    assert.equal(arrivals.length, 5);
    // Sent 100 ms apart: if the proxy buffered, they would all arrive together.
    assert.ok(arrivals[4]! - arrivals[0]! >= 300, `events spread over ${arrivals[4]! - arrivals[0]!} ms`);
  });

  it("marks activity: touch per request, hold while connected", async () => {
    const before = rig.runtime.touches;
    await send(rig.doorPort, host, { path: "/echo" });
    assert.ok(rig.runtime.touches > before);
    assert.ok(rig.runtime.holds >= 1);
  });
});

describe("preview security", () => {
  it("wrong token, unexposed port, other sandbox → the same 404 INVALID_TOKEN", async () => {
    const bad = [
      `${upPort}-${ID}-${"a".repeat(16)}.localhost`,
      `${upPort + 1 === 3000 ? 4001 : upPort + 1}-${ID}-${token}.localhost`,
      `${upPort}-other-box-${token}.localhost`,
    ];
    for (const h of bad) {
      const r = await send(rig.doorPort, h, { path: "/echo" });
      assert.equal(r.status, 404, h);
      const e = JSON.parse(r.body.toString());
      assert.equal(e.code, "INVALID_TOKEN");
    }
  });

  it("after unexpose → 404; re-expose mints a new token", async () => {
    const other = await listen(extraUpstream());
    const a = expose(rig, ID, other);
    assert.equal((await send(rig.doorPort, a.host, { path: "/echo" })).status, 200);
    rig.ports.unexpose(ID, other);
    assert.equal((await send(rig.doorPort, a.host, { path: "/echo" })).status, 404);
    const b = expose(rig, ID, other);
    assert.notEqual(a.token, b.token);
    assert.equal((await send(rig.doorPort, a.host, { path: "/echo" })).status, 404);
    assert.equal((await send(rig.doorPort, b.host, { path: "/echo" })).status, 200);
  });

  it("forged X-Forwarded-*, the API key and X-Atoll-* never reach the sandbox", async () => {
    const r = await send(rig.doorPort, host, {
      path: "/echo",
      headers: { "x-forwarded-for": "1.2.3.4", "x-forwarded-host": "evil", "x-forwarded-proto": "https", forwarded: "for=1.2.3.4", "x-real-ip": "1.2.3.4", authorization: `Bearer ${API_KEY}`, "x-atoll-preview-token": token },
    });
    const h = JSON.parse(r.body.toString()).headers;
    assert.equal(h["x-forwarded-for"], "127.0.0.1");
    assert.equal(h["x-forwarded-host"], host);
    assert.equal(h["x-forwarded-proto"], "http");
    assert.equal(h.forwarded, undefined);
    assert.equal(h["x-real-ip"], undefined);
    assert.equal(h.authorization, undefined);
    assert.equal(h["x-atoll-preview-token"], undefined);
    assert.equal(h.host, `localhost:${upPort}`);
  });

  it("the app's own Authorization passes through", async () => {
    const r = await send(rig.doorPort, host, { path: "/echo", headers: { authorization: "Bearer app-token" } });
    assert.equal(JSON.parse(r.body.toString()).headers.authorization, "Bearer app-token");
  });

  it("a second Host or CL+TE never reaches a sandbox: 400 mid-connection, the API's answer first thing", async () => {
    const ok = `GET /echo HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    for (const bad of [
      `GET / HTTP/1.1\r\nHost: ${host}\r\nHost: other\r\n\r\n`,
      `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ]) {
      // After a good preview request, the front door itself answers 400 (JSON error) and closes.
      const s = connect(rig.doorPort, "127.0.0.1");
      s.end(ok + bad);
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString();
      assert.equal(text.match(/^HTTP\/1\.1 /gm)?.length, 2);
      assert.match(text, /"method":"GET"[^]*HTTP\/1\.1 400 [^]*"code":"VALIDATION_FAILED"/);
      // As the first request, the connection goes to the control plane's node:http, never a sandbox.
      const f = connect(rig.doorPort, "127.0.0.1");
      f.end(bad);
      const fchunks: Buffer[] = [];
      for await (const c of f) fchunks.push(c as Buffer);
      assert.doesNotMatch(Buffer.concat(fchunks).toString(), /x-custom: yes/i);
    }
  });

  it("nothing listening → 502 SERVICE_NOT_RESPONDING; sandbox that cannot start → 503", async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createNetServer();
    const freePort = await listen(probe);
    await new Promise((r) => probe.close(r));
    const e = expose(rig, ID, freePort);
    const r = await send(rig.doorPort, e.host, { path: "/" });
    assert.equal(r.status, 502);
    assert.equal(JSON.parse(r.body.toString()).code, "SERVICE_NOT_RESPONDING");
    rig.runtime.ids.add("broken");
    const b = expose(rig, "broken", upPort);
    rig.runtime.failing.add("broken");
    const r2 = await send(rig.doorPort, b.host, { path: "/" });
    assert.equal(r2.status, 503);
    assert.equal(JSON.parse(r2.body.toString()).code, "SANDBOX_UNAVAILABLE");
  });
});

describe("hand-off and /proxy", () => {
  it("/proxy on a connection already handed to node:http goes through the fallback (HTTP and WebSocket)", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    await send(rig.doorPort, `localhost:${rig.doorPort}`, { path: "/v1/health", agent });
    const r = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path: `/v1/sandboxes/${ID}/proxy/${upPort}/echo?fb=1`, agent, headers: { authorization: `Bearer ${API_KEY}`, "x-forwarded-for": "10.1.1.1" } });
    agent.destroy();
    assert.equal(r.headers["x-served-by"], "fallback");
    const info = JSON.parse(r.body.toString());
    assert.equal(info.url, "/echo?fb=1");
    assert.equal(info.headers.authorization, undefined);
    assert.equal(info.headers["x-forwarded-for"], "10.1.1.1, 127.0.0.1"); // API-key callers are trusted
    // Raw socket: an API request first (hand-off), then a WebSocket upgrade to /proxy on the same connection.
    const s = connect(rig.doorPort, "127.0.0.1");
    let text = "";
    const waitFor = (needle: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${needle} in ${text}`)), 5000);
        const check = (): void => {
          if (!text.includes(needle)) return;
          clearTimeout(timer);
          s.off("data", check);
          resolve();
        };
        s.on("data", check);
        check();
      });
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.write(`GET /v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await waitFor('"api":true');
    s.write(`GET /v1/sandboxes/${ID}/proxy/${upPort}/ws/fb HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${API_KEY}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
    await waitFor("101 Switching Protocols");
    assert.match(text, /HTTP\/1\.1 101 Switching Protocols/);
    s.destroy();
  });

  it("non-preview requests reach the control plane's HTTP server, keep-alive included", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 3; i++) {
      const r = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path: `/v1/health?i=${i}`, agent });
      assert.deepEqual(JSON.parse(r.body.toString()), { api: true, url: `/v1/health?i=${i}` });
    }
    agent.destroy();
  });

  it("a preview request then an API request on the same connection", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const a = await send(rig.doorPort, host, { path: "/echo", agent });
    assert.equal(JSON.parse(a.body.toString()).method, "GET");
    const b = await send(rig.doorPort, host.replace(/^[^.]+\./, ""), { path: "/v1/x", agent });
    assert.equal(JSON.parse(b.body.toString()).api, true);
    agent.destroy();
  });

  it("/v1/sandboxes/:id/proxy/:port/* needs the API key and strips it", async () => {
    const path = `/v1/sandboxes/${ID}/proxy/${upPort}/echo?q=1`;
    const no = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path });
    assert.equal(no.status, 401);
    const ok = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path, headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(ok.status, 200);
    const info = JSON.parse(ok.body.toString());
    assert.equal(info.url, "/echo?q=1");
    assert.equal(info.headers.authorization, undefined);
    const badTok = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path, headers: { authorization: `Bearer ${API_KEY}`, "x-atoll-preview-token": "x".repeat(16) } });
    assert.equal(badTok.status, 404);
    assert.equal(JSON.parse(badTok.body.toString()).code, "INVALID_TOKEN");
    const goodTok = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path, headers: { authorization: `Bearer ${API_KEY}`, "x-atoll-preview-token": token } });
    assert.equal(goodTok.status, 200);
    const agentPort = await send(rig.doorPort, `localhost:${rig.doorPort}`, { path: `/v1/sandboxes/${ID}/proxy/3000/`, headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(JSON.parse(agentPort.body.toString()).code, "INVALID_PORT");
  });
});

// Messages are queued from creation: the server's greeting can arrive in the same packet as the 101.
const queues = new WeakMap<WebSocket, { items: { data: Buffer; binary: boolean }[]; waiters: ((m: { data: Buffer; binary: boolean }) => void)[] }>();
function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    const q = { items: [] as { data: Buffer; binary: boolean }[], waiters: [] as ((m: { data: Buffer; binary: boolean }) => void)[] };
    queues.set(ws, q);
    ws.on("message", (data, binary) => {
      const m = { data: data as Buffer, binary };
      const w = q.waiters.shift();
      if (w) w(m);
      else q.items.push(m);
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; binary: boolean }> {
  const q = queues.get(ws)!;
  const m = q.items.shift();
  return m ? Promise.resolve(m) : new Promise((resolve) => q.waiters.push(resolve));
}

describe("preview WebSocket", () => {
  const url = (): string => `ws://127.0.0.1:${rig.doorPort}/ws`;
  const hdr = (): Record<string, string> => ({ host });

  it("text and binary echo, forwarded-for set", async () => {
    const ws = await openWs(url(), { ...hdr(), "x-forwarded-for": "9.9.9.9" });
    const hello = JSON.parse((await nextMessage(ws)).data.toString());
    assert.equal(hello.hello, "/ws");
    assert.equal(hello.xff, "127.0.0.1");
    ws.send("hi");
    assert.equal((await nextMessage(ws)).data.toString(), "hi");
    const bin = Buffer.from([0, 1, 2, 255]);
    ws.send(bin);
    const m = await nextMessage(ws);
    assert.equal(m.binary, true);
    assert.deepEqual(m.data, bin);
    const pong = new Promise<Buffer>((r) => ws.once("pong", r));
    ws.ping("p1");
    assert.equal((await pong).toString(), "p1");
    ws.close(4000, "client bye");
    const [code] = await new Promise<[number]>((r) => ws.once("close", (c) => r([c])));
    assert.equal(code, 4000);
  });

  it("server-side close code reaches the client", async () => {
    const ws = await openWs(url(), hdr());
    await nextMessage(ws);
    ws.send("close:4321");
    const code = await new Promise<number>((r) => ws.once("close", (c) => r(c)));
    assert.equal(code, 4321);
  });

  it("client close code reaches the server", async () => {
    const serverClose = new Promise<number>((r) => up.wss.once("connection", (s) => s.once("close", (c) => r(c))));
    const ws = await openWs(url(), hdr());
    await nextMessage(ws);
    ws.close(4444);
    assert.equal(await serverClose, 4444);
  });

  it("100 concurrent connections echo", async () => {
    const socks = await Promise.all(Array.from({ length: 100 }, () => openWs(url(), hdr())));
    await Promise.all(socks.map((s) => nextMessage(s)));
    const echoes = await Promise.all(
      socks.map(async (s, i) => {
        const p = nextMessage(s);
        s.send(`m${i}`);
        return (await p).data.toString();
      }),
    );
    assert.deepEqual(echoes, socks.map((_, i) => `m${i}`));
    await Promise.all(socks.map((s) => new Promise((r) => (s.once("close", r), s.close()))));
  });

  it("wrong token refuses the upgrade with 404", async () => {
    await assert.rejects(openWs(url(), { host: host.replace(token, "z".repeat(16)) }), /404/);
  });

  it("WebSocket through /v1/sandboxes/:id/proxy/:port with the API key", async () => {
    const ws = await openWs(`ws://127.0.0.1:${rig.doorPort}/v1/sandboxes/${ID}/proxy/${upPort}/ws/x`, { authorization: `Bearer ${API_KEY}` });
    assert.equal(JSON.parse((await nextMessage(ws)).data.toString()).hello, "/ws/x");
    ws.send("via proxy");
    assert.equal((await nextMessage(ws)).data.toString(), "via proxy");
    ws.close();
    await assert.rejects(openWs(`ws://127.0.0.1:${rig.doorPort}/v1/sandboxes/${ID}/proxy/${upPort}/ws`), /401/);
  });
});
