// Preview URLs against real sandboxes: a Bun server inside a sandbox reached through the
// control plane's front door ({port}-{id}-{token}.localhost:{serverPort}) and through
// /v1/sandboxes/:id/proxy/:port — HTTP methods and bodies, 100 MiB, chunked uploads, SSE,
// WebSockets, wake on demand, tokens surviving a restart, and the security rules.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Agent, request } from "node:http";
import { after, before, describe, it } from "node:test";
import { createClient, getSandbox, type AtollClient, type Sandbox } from "@atoll/sdk";
import { startAtoll, type Atoll } from "./harness.js";
import { closed, nextMessage, openWs, send, sseArrivals, startFixture } from "./preview-helpers.js";

let atoll: Atoll;
let client: AtollClient;
let sb: Sandbox;
let other: Sandbox;
let host: string; // preview host of port 8080 in sb
let token: string;
const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
  client = createClient({ url: atoll.url, apiKey: atoll.apiKey });
  sb = getSandbox(client, "pv-main");
  other = getSandbox(client, "pv-other");
  await Promise.all([startFixture(sb, 8080), startFixture(other, 8080)]);
  const { url } = await sb.exposePort(8080, { name: "web" });
  host = new URL(url).host;
  token = /^8080-pv-main-([a-z0-9_-]{16})\.localhost:\d+$/.exec(host)![1]!;
});
after(async () => {
  await atoll?.stop();
});

describe("preview HTTP through a real sandbox", () => {
  it("exposePort → URL shape; getExposedPorts reports active", async () => {
    assert.equal(host, `8080-pv-main-${token}.localhost:${atoll.port}`);
    const list = await sb.getExposedPorts();
    assert.deepEqual(list.map((p) => [p.port, p.name, p.status]), [[8080, "web", "active"]]);
  });

  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
    it(`${method}: headers and 1 MiB both ways`, async () => {
      // Bun ignores GET bodies, so GET sends none; the rest send 1 MiB.
      const body = method === "GET" ? Buffer.alloc(0) : Buffer.alloc(1024 * 1024, method.charCodeAt(1));
      const r = await send(atoll.port, host, { method, path: `/echo?reply=${1 << 20}`, headers: { "x-test": method, "content-length": String(body.length) }, body });
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 1 << 20);
      const info = JSON.parse(Buffer.from(String(r.headers["x-info"]), "base64").toString());
      assert.equal(info.method, method);
      assert.equal(info.headers["x-test"], method);
      assert.equal(info.bodyLength, body.length);
      assert.equal(info.sha256, sha(body));
    });
  }

  it("HEAD, then GET on the same keep-alive connection", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const h = await send(atoll.port, host, { method: "HEAD", path: "/echo", agent });
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    const g = await send(atoll.port, host, { path: "/echo?after-head", agent });
    assert.equal(JSON.parse(g.body.toString()).url, "/echo?after-head");
    agent.destroy();
  });

  it("chunked upload of 5 MB", async () => {
    const h = createHash("sha256");
    const info = await new Promise<{ bodyLength: number; sha256: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: atoll.port, method: "POST", path: "/echo", headers: { host }, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (c: Buffer) => parts.push(c));
        res.on("end", () => resolve(JSON.parse(Buffer.concat(parts).toString())));
      });
      req.on("error", reject);
      for (let i = 0; i < 100; i++) {
        const part = Buffer.alloc(50_000, i);
        h.update(part);
        req.write(part);
      }
      req.end();
    });
    assert.equal(info.bodyLength, 5_000_000);
    assert.equal(info.sha256, h.digest("hex"));
  });

  it("100 MiB download", async () => {
    const n = 100 * 1024 * 1024;
    const t0 = performance.now();
    const got = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: atoll.port, path: `/big?n=${n}`, headers: { host }, agent: false }, (res) => {
        let len = 0;
        res.on("data", (c: Buffer) => (len += c.length));
        res.on("end", () => resolve(len));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(got, n);
    console.log(`# 100 MiB via preview URL: ${(n / 1e6 / ((performance.now() - t0) / 1000)).toFixed(0)} MB/s (node http client)`);
  });

  it("SSE events arrive one by one", async () => {
    const { arrivals } = await sseArrivals(atoll.port, host, "/sse");
    assert.equal(arrivals.length, 5);
    assert.ok(arrivals[4]! - arrivals[0]! >= 300, `spread ${arrivals[4]! - arrivals[0]!} ms`);
  });
});

describe("preview security with real sandboxes", () => {
  it("wrong token, unexposed port, another sandbox's id → 404 INVALID_TOKEN", async () => {
    for (const h of [host.replace(token, "a".repeat(16)), host.replace(/^8080-/, "8081-"), host.replace("pv-main", "pv-other")]) {
      const r = await send(atoll.port, h, { path: "/echo" });
      assert.equal(r.status, 404, h);
      assert.equal(JSON.parse(r.body.toString()).code, "INVALID_TOKEN");
    }
  });

  it("a token of one sandbox does not open the other's same port", async () => {
    const { url } = await other.exposePort(8080);
    const otherHost = new URL(url).host;
    assert.equal((await send(atoll.port, otherHost, { path: "/echo" })).status, 200);
    const mixed = otherHost.replace(/-[a-z0-9_-]{16}\./, `-${token}.`);
    assert.equal((await send(atoll.port, mixed, { path: "/echo" })).status, 404);
    await other.unexposePort(8080);
  });

  it("port 3000 and out-of-range ports cannot be exposed; unexpose of an unexposed port", async () => {
    for (const p of [3000, 80, 70000]) {
      const r = await atoll.json("POST", "/v1/sandboxes/pv-main/ports", { port: p });
      assert.equal(r.status, 400);
      assert.equal(r.body.code, "INVALID_PORT");
    }
    const nonInt = await atoll.json("POST", "/v1/sandboxes/pv-main/ports", { port: 8080.5 });
    assert.equal(nonInt.body.code, "INVALID_PORT");
    const again = await atoll.json("POST", "/v1/sandboxes/pv-main/ports", { port: 8080 });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, "PORT_ALREADY_EXPOSED");
    const un = await atoll.json("DELETE", "/v1/sandboxes/pv-main/ports/9999");
    assert.equal(un.status, 404);
    assert.equal(un.body.code, "PORT_NOT_EXPOSED");
  });

  it("forged X-Forwarded-* are replaced; the API key never reaches the sandbox", async () => {
    const r = await send(atoll.port, host, { path: "/echo", headers: { "x-forwarded-for": "6.6.6.6", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https", authorization: `Bearer ${atoll.apiKey}` } });
    const h = JSON.parse(r.body.toString()).headers;
    assert.equal(h["x-forwarded-for"], "127.0.0.1");
    assert.equal(h["x-forwarded-host"], host);
    assert.equal(h["x-forwarded-proto"], "http");
    assert.equal(h.authorization, undefined);
    const viaProxy = await atoll.json("GET", `/v1/sandboxes/pv-main/proxy/8080/echo`);
    assert.equal(viaProxy.status, 200);
    assert.equal(viaProxy.body.headers.authorization, undefined);
    assert.ok(!JSON.stringify(viaProxy.body).includes(atoll.apiKey));
  });

  it("after unexpose → 404, re-expose gives a new token", async () => {
    const { url } = await sb.exposePort(8090);
    const h9 = new URL(url).host;
    const r = await send(atoll.port, h9, { path: "/" });
    assert.equal(r.status, 502);
    assert.equal(JSON.parse(r.body.toString()).code, "SERVICE_NOT_RESPONDING");
    await sb.unexposePort(8090);
    assert.equal((await send(atoll.port, h9, { path: "/" })).status, 404);
    const again = new URL((await sb.exposePort(8090)).url).host;
    assert.notEqual(again, h9);
    await sb.unexposePort(8090);
  });
});

describe("preview WebSockets through a real sandbox", () => {
  const wsUrl = (): string => `ws://127.0.0.1:${atoll.port}/ws/chat`;

  it("text, binary, ping/pong, client close code", async () => {
    const ws = await openWs(wsUrl(), { host, "x-forwarded-for": "6.6.6.6" });
    const hello = JSON.parse((await nextMessage(ws)).data.toString());
    assert.deepEqual(hello, { hello: "/ws/chat", xff: "127.0.0.1" });
    ws.send("text-1");
    assert.equal((await nextMessage(ws)).data.toString(), "text-1");
    const bin = Buffer.from([0, 255, 1, 254]);
    ws.send(bin);
    const m = await nextMessage(ws);
    assert.equal(m.binary, true);
    assert.deepEqual(m.data, bin);
    const pong = new Promise<Buffer>((r) => ws.once("pong", r));
    ws.ping("pp");
    assert.equal((await pong).toString(), "pp");
    const c = closed(ws);
    ws.close(4001, "client-bye");
    assert.equal(await c, 4001);
  });

  it("server-side close code reaches the client", async () => {
    const ws = await openWs(wsUrl(), { host });
    await nextMessage(ws);
    const c = closed(ws);
    ws.send("close:4123");
    assert.equal(await c, 4123);
  });

  it("100 concurrent connections", async () => {
    const socks = await Promise.all(Array.from({ length: 100 }, () => openWs(wsUrl(), { host })));
    await Promise.all(socks.map((s) => nextMessage(s)));
    const got = await Promise.all(
      socks.map(async (s, i) => {
        const p = nextMessage(s);
        s.send(`n${i}`);
        return (await p).data.toString();
      }),
    );
    assert.deepEqual(got, socks.map((_, i) => `n${i}`));
    await Promise.all(socks.map((s) => ((s.close(), closed(s)))));
  });

  it("via /v1/sandboxes/:id/proxy/:port with the API key (and SDK connectWebSocket)", async () => {
    const ws = await openWs(`ws://127.0.0.1:${atoll.port}/v1/sandboxes/pv-main/proxy/8080/ws/p`, { authorization: `Bearer ${atoll.apiKey}` });
    assert.equal(JSON.parse((await nextMessage(ws)).data.toString()).hello, "/ws/p");
    ws.send(Buffer.from([1, 2, 3]));
    assert.deepEqual((await nextMessage(ws)).data, Buffer.from([1, 2, 3]));
    const c = closed(ws);
    ws.send("close:4002");
    assert.equal(await c, 4002);
    await assert.rejects(openWs(`ws://127.0.0.1:${atoll.port}/v1/sandboxes/pv-main/proxy/8080/ws/p`), /401/);
    const sdkWs = await sb.connectWebSocket(8080, "/ws/sdk");
    // The greeting may arrive before a listener exists (it can share the 101's packet): wait for our echo.
    const echoed = new Promise<string>((r) => sdkWs.addEventListener("message", (e) => String(e.data) === "sdk-echo" && r(String(e.data))));
    sdkWs.send("sdk-echo");
    assert.equal(await echoed, "sdk-echo");
    sdkWs.close();
  });

  it("wrong token refuses the upgrade with 404", async () => {
    await assert.rejects(openWs(wsUrl(), { host: host.replace(token, "b".repeat(16)) }), /404/);
  });
});

describe("lifecycle", () => {
  it("a sleeping sandbox is woken by a preview request; tokens survive a control-plane restart", async () => {
    const s = await atoll.json("POST", "/v1/sandboxes/pv-other/sleep");
    assert.equal(s.status, 200);
    const { url } = await other.exposePort(8080);
    const h = new URL(url).host;
    // The sleep stopped the server inside; the request wakes the sandbox, then finds nothing listening.
    const r = await send(atoll.port, h, { path: "/echo" });
    assert.equal(r.status, 502);
    assert.equal(JSON.parse(r.body.toString()).code, "SERVICE_NOT_RESPONDING");
    assert.equal((await atoll.json("GET", "/v1/sandboxes/pv-other")).body.status, "running");
    await atoll.restart();
    const after = await send(atoll.port, host, { path: "/echo?after-restart" });
    assert.equal(after.status, 200);
    assert.equal(JSON.parse(after.body.toString()).url, "/echo?after-restart");
  });
});
