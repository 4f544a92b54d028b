// Slowloris and connection exhaustion against the control plane's port (issue 16, "Slowloris"),
// on a real server: the front door (preview and API share it) and node:http behind it. Each case:
// the attacker, the attack, the refusal expected; it fails if the attack works.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { createClient, getSandbox } from "@atoll/sdk";
import { startAtoll, createSandbox, type Atoll } from "../e2e/harness.js";
import { send, startFixture } from "../e2e/preview-helpers.js";

const HEAD_TIMEOUT_MS = 2000;
const PER_IP = 20;
let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0, env: { ATOLL_HEAD_TIMEOUT_MS: String(HEAD_TIMEOUT_MS), ATOLL_MAX_CONNECTIONS_PER_IP: String(PER_IP) } });
});
after(async () => {
  await atoll?.stop();
});

interface Conn {
  s: Socket;
  /** Everything the server sent so far. */
  data(): string;
  /** Resolves with ms since connect when the server closed or ended the connection. */
  closed: Promise<number>;
}

/** A raw connection to the control plane's port, from a chosen loopback address. */
function open(port: number, from = "127.0.0.1"): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const s = connect({ port, host: "127.0.0.1", localAddress: from });
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    const closed = new Promise<number>((r) => {
      s.once("end", () => r(Date.now() - t0));
      s.once("close", () => r(Date.now() - t0));
    });
    s.on("error", () => undefined);
    s.once("connect", () => resolve({ s, data: () => out, closed }));
    s.once("error", reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number): Promise<T | "timeout"> => Promise.race([p, sleep(ms).then(() => "timeout" as const)]);
const bodyOf = (res: string) => JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4));

test("slowloris: a head trickled one header line at a time is cut at the deadline with 408 REQUEST_TIMEOUT", { timeout: 60_000 }, async () => {
  const c = await open(atoll.port);
  c.s.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n");
  const trickle = setInterval(() => c.s.writable && c.s.write(`X-${Date.now()}: y\r\n`), 300);
  try {
    const t = await within(c.closed, HEAD_TIMEOUT_MS + 3000);
    assert.notEqual(t, "timeout", "the connection was still open 3 s past the head deadline");
    assert.ok((t as number) >= HEAD_TIMEOUT_MS - 100, `cut after ${t} ms, before the deadline`);
    assert.match(c.data(), /^HTTP\/1\.1 408 /);
    assert.equal(bodyOf(c.data()).code, "REQUEST_TIMEOUT");
  } finally {
    clearInterval(trickle);
    c.s.destroy();
  }
});

test("slowloris: a connection that sends nothing is closed at the head deadline", { timeout: 60_000 }, async () => {
  const c = await open(atoll.port);
  const t = await within(c.closed, HEAD_TIMEOUT_MS + 3000);
  c.s.destroy();
  assert.notEqual(t, "timeout", "a silent connection outlived the head deadline by 3 s");
});

test("slowloris on a kept-alive API connection: the second head also has the deadline", { timeout: 60_000 }, async () => {
  const c = await open(atoll.port);
  c.s.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  await sleep(300);
  assert.match(c.data(), /^HTTP\/1\.1 200 /);
  c.s.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n");
  const trickle = setInterval(() => c.s.writable && c.s.write(`X-${Date.now()}: y\r\n`), 300);
  try {
    const t = await within(c.closed, HEAD_TIMEOUT_MS + 4000);
    assert.notEqual(t, "timeout", "the second head was still being read 4 s past its deadline");
    assert.match(c.data().slice(c.data().lastIndexOf("HTTP/1.1 ")), /^HTTP\/1\.1 408 /);
  } finally {
    clearInterval(trickle);
    c.s.destroy();
  }
});

test("half-closed client: a connection whose head was cut by FIN is answered and closed at once, not left in CLOSE-WAIT", { timeout: 60_000 }, async () => {
  // Partial head, then FIN: the head can never complete.
  const a = await open(atoll.port);
  a.s.end("GET /v1/health HTTP/1.1\r\nHost: x\r\n");
  const ta = await within(a.closed, 1000);
  a.s.destroy();
  assert.notEqual(ta, "timeout", "half-closed connection with a partial head was held open");
  assert.match(a.data(), /^HTTP\/1\.1 400 /);
  // Nothing sent, then FIN.
  const b = await open(atoll.port);
  b.s.end();
  assert.notEqual(await within(b.closed, 1000), "timeout");
  b.s.destroy();
  // A kept-alive API connection (node:http) that half-closes mid-head.
  const c = await open(atoll.port);
  c.s.write("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  await sleep(300);
  c.s.end("GET /v1/health HTTP/1.1\r\nHo");
  assert.notEqual(await within(c.closed, 1000), "timeout", "node:http held a half-closed connection");
  c.s.destroy();
  // A complete request then FIN still gets its answer.
  const d = await open(atoll.port);
  d.s.end("GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.notEqual(await within(d.closed, 2000), "timeout");
  assert.match(d.data(), /^HTTP\/1\.1 200 /);
  d.s.destroy();
});

test("one address may hold at most ATOLL_MAX_CONNECTIONS_PER_IP connections; more get 429 TOO_MANY_CONNECTIONS, other addresses are served", { timeout: 60_000 }, async () => {
  const mine: Conn[] = [];
  try {
    for (let i = 0; i < PER_IP; i++) mine.push(await open(atoll.port, "127.0.0.3"));
    const extra = await open(atoll.port, "127.0.0.3");
    assert.notEqual(await within(extra.closed, 2000), "timeout", "the connection over the cap was kept");
    assert.match(extra.data(), /^HTTP\/1\.1 429 /);
    assert.equal(bodyOf(extra.data()).code, "TOO_MANY_CONNECTIONS");
    extra.s.destroy();
    // Everyone else is unaffected.
    assert.equal((await atoll.json("GET", "/v1/sandboxes")).status, 200);
    const other = await open(atoll.port, "127.0.0.4");
    other.s.write("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await other.closed;
    assert.match(other.data(), /^HTTP\/1\.1 200 /);
  } finally {
    for (const c of mine) c.s.destroy();
  }
  // Closed connections free their places.
  await sleep(200);
  const again = await open(atoll.port, "127.0.0.3");
  again.s.write("GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await again.closed;
  assert.match(again.data(), /^HTTP\/1\.1 200 /);
});

test("at a lowered fd limit (512), 600 slow connections from 8 addresses do not stop API calls or preview requests", { timeout: 240_000 }, async () => {
  // A long head deadline: here it is shedding at the connection cap, not the deadline, that must keep the port usable.
  const low = await startAtoll({ poolSize: 0, wrap: ["prlimit", "--nofile=512:512", "--"], env: { ATOLL_HEAD_TIMEOUT_MS: "120000" } });
  const slow: Conn[] = [];
  let trickle: NodeJS.Timeout | undefined;
  try {
    await createSandbox(low, "fd-box");
    const sb = getSandbox(createClient({ url: low.url, apiKey: low.apiKey }), "fd-box");
    await startFixture(sb, 8080);
    const host = new URL((await sb.exposePort(8080, { hostname: `localhost:${low.port}` })).url).host;
    assert.equal((await send(low.port, host, { path: "/1k" })).status, 200);

    // The attack: each connection sends part of a head and then one more header line now and then.
    for (let i = 0; i < 600; i++) {
      const c = await open(low.port, `127.0.0.${10 + (i % 8)}`).catch(() => null);
      if (!c) continue;
      c.s.write(`GET /${i % 2 ? "v1/health" : ""} HTTP/1.1\r\nHost: ${i % 2 ? "x" : host}\r\n`);
      slow.push(c);
    }
    trickle = setInterval(() => {
      for (const c of slow) if (c.s.writable) c.s.write("X-Slow: 1\r\n");
    }, 1000);
    await sleep(500);

    // Normal traffic still works: API calls, an exec through the agent, preview requests.
    for (let k = 0; k < 5; k++) {
      const list = await low.json("GET", "/v1/sandboxes", undefined, { signal: AbortSignal.timeout(10_000) });
      assert.equal(list.status, 200, JSON.stringify(list.body).slice(0, 200));
      const ex = await low.json("POST", "/v1/sandboxes/fd-box/api/execute", { command: "echo ok" }, { signal: AbortSignal.timeout(30_000) });
      assert.equal(ex.body?.stdout, "ok\n", JSON.stringify(ex.body).slice(0, 200));
      const pv = await send(low.port, host, { path: "/1k" });
      assert.equal(pv.status, 200);
      assert.equal(pv.body.length, 1024);
    }
    const closedSlow = slow.filter((c) => c.s.destroyed || c.s.readableEnded).length;
    assert.ok(closedSlow > 0, "no slow connection was shed, so the cap was never reached");
    assert.doesNotMatch(low.logs(), /EMFILE/);
  } finally {
    if (trickle) clearInterval(trickle);
    for (const c of slow) c.s.destroy();
    await low.stop();
  }
});
