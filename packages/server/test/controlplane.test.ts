// Control plane against an in-process fake driver: registry, auth, bad input, forwarding
// (streams, abort, headers), lifecycle (sleep/wake, holds, keepAlive, pause) and adoption.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { createApp, type App } from "../src/app.js";
import { makeConfig, type ServerConfig } from "../src/config.js";
import { silentLogger } from "../src/log.js";
import { FakeDriver } from "./fake-driver.js";

const dirs: string[] = [];
const apps: App[] = [];
const driver = new FakeDriver();

after(async () => {
  for (const a of apps) await a.close();
  await driver.shutdown();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function boot(over: Partial<ServerConfig> = {}, dataDir?: string) {
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), "atoll-cp-"));
  if (!dataDir) dirs.push(dir);
  const config = makeConfig({ dataDir: dir, port: 0, host: "127.0.0.1", apiKey: "k-test", idleCheckMs: 50, shutdownGraceMs: 500, baseImage: "/nonexistent", ...over });
  const app = await createApp(config, { driver, log: silentLogger });
  apps.push(app);
  const url = await app.listen();
  const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + p, {
      method,
      headers: { authorization: `Bearer ${app.apiKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json };
  };
  return { app, url, call, dir };
}

/** Sends raw bytes over TCP and returns the raw response text. */
function rawRequest(port: number, data: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1");
    let out = "";
    s.on("data", (d) => (out += d.toString()));
    s.on("end", () => resolve(out));
    s.on("error", reject);
    s.write(data);
  });
}

const portOf = (url: string) => Number(new URL(url).port);

test("get-or-create is idempotent under 10 concurrent PUTs", async () => {
  const { call } = await boot();
  const before = driver.calls.filter((c) => c === "start:race-box").length;
  const rs = await Promise.all(Array.from({ length: 10 }, () => call("PUT", "/v1/sandboxes/race-box", {})));
  assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
  assert.equal(rs.filter((r) => r.body.created === true).length, 1);
  assert.equal(driver.calls.filter((c) => c === "start:race-box").length - before, 1);
  const list = await call("GET", "/v1/sandboxes");
  assert.deepEqual(list.body.sandboxes.map((s: any) => s.id), ["race-box"]);
  assert.equal(list.body.sandboxes[0].status, "running");
});

test("get, patch and destroy; destroy removes driver state and row", async () => {
  const { call } = await boot();
  await call("PUT", "/v1/sandboxes/life-1", { sleepAfter: "5m", limits: { memoryMiB: 256 } });
  const g = await call("GET", "/v1/sandboxes/life-1");
  assert.equal(g.status, 200);
  assert.equal(g.body.sleepAfterMs, 300_000);
  assert.equal(g.body.limits.memoryMiB, 256);
  assert.equal(g.body.limits.cpu, 1);
  const p = await call("PATCH", "/v1/sandboxes/life-1", { keepAlive: true, sleepAfter: 90 });
  assert.equal(p.body.keepAlive, true);
  assert.equal(p.body.sleepAfterMs, 90_000);
  const d = await call("DELETE", "/v1/sandboxes/life-1");
  assert.deepEqual(d.body, { success: true, id: "life-1" });
  assert.equal(driver.boxes.has("life-1"), false);
  assert.equal((await call("GET", "/v1/sandboxes/life-1")).body.code, "SANDBOX_NOT_FOUND");
  assert.equal((await call("DELETE", "/v1/sandboxes/life-1")).status, 404);
  assert.equal((await call("GET", "/v1/sandboxes/life-1/api/headers")).body.code, "SANDBOX_NOT_FOUND");
});

test("auth: health is public, everything else needs the key; a generated key is stored 0600", async () => {
  const { url, app, dir } = await boot({ apiKey: undefined });
  assert.match(app.apiKey, /^atoll_/);
  assert.equal(app.apiKeyGenerated, true);
  const f = path.join(dir, "api-key");
  assert.equal(statSync(f).mode & 0o777, 0o600);
  assert.equal(readFileSync(f, "utf8").trim(), app.apiKey);
  assert.equal((await fetch(url + "/v1/health")).status, 200);
  const none = await fetch(url + "/v1/sandboxes");
  assert.equal(none.status, 401);
  assert.equal(((await none.json()) as any).code, "UNAUTHORIZED");
  const wrong = await fetch(url + "/v1/sandboxes", { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  const basic = await fetch(url + "/v1/sandboxes", { headers: { authorization: `Basic ${app.apiKey}` } });
  assert.equal(basic.status, 401);
  // unknown /v1 routes do not reveal themselves without a key
  assert.equal((await fetch(url + "/v1/nope")).status, 401);
  const ok = await fetch(url + "/v1/sandboxes", { headers: { authorization: `Bearer ${app.apiKey}` } });
  assert.equal(ok.status, 200);
});

test("bad input gets coded 4xx and the server stays up", async () => {
  const { call, url } = await boot({ maxJsonBody: 64 * 1024 });
  const cases: [string, string, unknown, number, string][] = [
    ["PUT", "/v1/sandboxes/ok-id", "{not json", 400, "INVALID_JSON"],
    ["PUT", "/v1/sandboxes/ok-id", "[1,2]", 400, "INVALID_JSON"],
    ["PUT", "/v1/sandboxes/Bad_ID", {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", `/v1/sandboxes/${"a".repeat(64)}`, {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", "/v1/sandboxes/-x", {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", "/v1/sandboxes/a%00b", {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", "/v1/sandboxes/ok-id", { envVars: { A: "x\u0000y" } }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/ok-id", { envVars: { "1A": "x" } }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/ok-id", { sleepAfter: "soon" }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/ok-id", { keepAlive: "yes" }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/ok-id", { limits: { memoryMiB: 1e9 } }, 400, "LIMIT_EXCEEDED"],
    ["PUT", "/v1/sandboxes/ok-id", { limits: { cpu: 64 } }, 400, "LIMIT_EXCEEDED"],
    ["PUT", "/v1/sandboxes/ok-id", { limits: { pids: -1 } }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/ok-id", { limits: { gpus: 1 } }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/ok-id", { template: "nope" }, 404, "TEMPLATE_NOT_FOUND"],
    ["PUT", "/v1/sandboxes/ok-id", { fromSnapshot: "nope" }, 404, "SNAPSHOT_NOT_FOUND"],
    ["PUT", "/v1/sandboxes/ok-id", "x".repeat(100 * 1024), 413, "PAYLOAD_TOO_LARGE"],
    ["GET", "/v1/nothing-here", undefined, 404, "NOT_FOUND"],
    ["POST", "/v1/sandboxes", {}, 405, "METHOD_NOT_ALLOWED"],
    ["POST", "/v1/sandboxes/ok-id/snapshots", { name: "../x" }, 400, "VALIDATION_FAILED"],
    ["DELETE", "/v1/snapshots/missing", undefined, 404, "SNAPSHOT_NOT_FOUND"],
  ];
  for (const [m, p, b, status, code] of cases) {
    const r = await call(m, p, b);
    assert.equal(r.status, status, `${m} ${p} ${String(JSON.stringify(b)).slice(0, 60)} → ${JSON.stringify(r.body).slice(0, 200)}`);
    assert.equal(r.body.code, code, `${m} ${p}`);
    assert.match(r.body.message, /^Cannot /);
  }
  // nothing was created by the rejected calls
  assert.equal((await call("GET", "/v1/sandboxes/ok-id")).status, 404);
  // malformed HTTP on the raw socket: NUL in the request line, garbage, oversized header
  const port = portOf(url);
  assert.match(await rawRequest(port, "GET /v1/health\0 HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.match(await rawRequest(port, "\x16\x03\x01garbage\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.match(await rawRequest(port, `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  assert.equal((await fetch(url + "/v1/health")).status, 200);
});

test("forwarder: path and query kept, Authorization dropped, env passed via spec", async () => {
  const { call } = await boot();
  await call("PUT", "/v1/sandboxes/fw-1", { envVars: { FOO: "bar" } });
  const r = await call("GET", "/v1/sandboxes/fw-1/api/headers?x=1&y=%20z", undefined, { "x-custom": "yes" });
  assert.equal(r.status, 200);
  assert.equal(r.body.url, "/api/headers?x=1&y=%20z");
  assert.equal(r.body.headers.authorization, undefined);
  assert.equal(r.body.headers["x-custom"], "yes");
  assert.deepEqual(r.body.env, { FOO: "bar" });
  const nf = await call("GET", "/v1/sandboxes/fw-1/api/nope");
  assert.equal(nf.status, 404);
  assert.equal(nf.body.code, "NOT_FOUND");
});

test("forwarder: sends the sandbox's agent key; the caller's credentials, Origin and own key header never reach the agent", async () => {
  const { call } = await boot();
  await call("PUT", "/v1/sandboxes/fw-key", {});
  const r = await call("GET", "/v1/sandboxes/fw-key/api/headers", undefined, {
    "proxy-authorization": "Bearer k-test", origin: "http://evil.example", cookie: "session=1", "x-atoll-agent-key": "forged",
  });
  assert.equal(r.status, 200);
  const key = driver.boxes.get("fw-key")?.agentKey;
  assert.ok(key && key.length > 0);
  assert.equal(r.body.headers["x-atoll-agent-key"], key, "the control plane's key, not the caller's");
  for (const h of ["authorization", "proxy-authorization", "origin", "cookie"]) assert.equal(r.body.headers[h], undefined, h);
});

test("forwarder streams 64 MiB both ways intact", async () => {
  const { url, app, call } = await boot();
  await call("PUT", "/v1/sandboxes/fw-big", {});
  const size = 64 * 1024 * 1024;
  const chunk = randomBytes(1024 * 1024);
  const want = createHash("sha256");
  for (let i = 0; i < 64; i++) want.update(chunk);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
  const res = await fetch(url + "/v1/sandboxes/fw-big/api/echo", { method: "POST", body, duplex: "half", headers: { authorization: `Bearer ${app.apiKey}` } } as RequestInit);
  assert.equal(res.status, 200);
  const got = createHash("sha256");
  let n = 0;
  for await (const c of res.body as any as AsyncIterable<Uint8Array>) {
    got.update(c);
    n += c.length;
  }
  assert.equal(n, size);
  assert.equal(got.digest("hex"), want.digest("hex"));
});

test("forwarder flushes SSE per event and holds the sandbox awake while streaming", async () => {
  const { url, app, call } = await boot();
  await call("PUT", "/v1/sandboxes/fw-sse", { sleepAfter: 1 });
  const t0 = Date.now();
  const res = await fetch(url + "/v1/sandboxes/fw-sse/api/sse?n=4&gap=700", { headers: { authorization: `Bearer ${app.apiKey}` } });
  assert.equal(res.headers.get("content-type"), "text/event-stream");
  const reader = res.body!.getReader();
  const first = await reader.read();
  // the first event arrives long before the stream ends (≈2.1 s)
  assert.ok(Date.now() - t0 < 1000, `first event after ${Date.now() - t0} ms`);
  assert.match(Buffer.from(first.value!).toString(), /^data: \{"i":0/);
  let text = Buffer.from(first.value!).toString();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  assert.equal(text.match(/^data: /gm)!.length, 4);
  // 2.1 s of streaming with sleepAfter 1 s: the hold kept it awake
  assert.equal(app.manager.get("fw-sse").status, "running");
  assert.ok(!driver.calls.includes("stop:fw-sse"));
});

test("client abort propagates to the agent", async () => {
  const { url, app, call } = await boot();
  await call("PUT", "/v1/sandboxes/fw-abort", {});
  const box = driver.boxes.get("fw-abort")!;
  const ac = new AbortController();
  const res = await fetch(url + "/v1/sandboxes/fw-abort/api/hang", { headers: { authorization: `Bearer ${app.apiKey}` }, signal: ac.signal });
  const reader = res.body!.getReader();
  await reader.read();
  assert.equal(box.aborted, 0);
  ac.abort();
  for (let i = 0; i < 100 && box.aborted === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(box.aborted, 1);
});

test("idle sandboxes sleep and wake transparently; keepAlive ones never sleep", async () => {
  const { call, app } = await boot();
  await call("PUT", "/v1/sandboxes/idle-a", { sleepAfter: "1s" });
  await call("PUT", "/v1/sandboxes/idle-b", { sleepAfter: "1s", keepAlive: true });
  for (let i = 0; i < 60 && app.manager.get("idle-a").status !== "sleeping"; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(app.manager.get("idle-a").status, "sleeping");
  assert.equal(driver.boxes.get("idle-a")!.state, "stopped");
  assert.equal(app.manager.get("idle-b").status, "running");
  const r = await call("GET", "/v1/sandboxes/idle-a/api/headers");
  assert.equal(r.status, 200);
  assert.equal(app.manager.get("idle-a").status, "running");
  assert.ok(app.manager.stats.wakes >= 1);
  // explicit sleep, then PUT wakes it
  assert.equal((await call("POST", "/v1/sandboxes/idle-b/sleep")).body.status, "sleeping");
  assert.equal((await call("PUT", "/v1/sandboxes/idle-b", {})).body.status, "running");
});

test("pause: forwarded calls get 409 SANDBOX_PAUSED until resume", async () => {
  const { call } = await boot();
  await call("PUT", "/v1/sandboxes/pz", {});
  assert.equal((await call("POST", "/v1/sandboxes/pz/pause")).body.status, "paused");
  const r = await call("GET", "/v1/sandboxes/pz/api/headers");
  assert.equal(r.status, 409);
  assert.equal(r.body.code, "SANDBOX_PAUSED");
  assert.equal((await call("PUT", "/v1/sandboxes/pz", {})).body.status, "paused");
  assert.equal((await call("POST", "/v1/sandboxes/pz/resume")).body.status, "running");
  assert.equal((await call("GET", "/v1/sandboxes/pz/api/headers")).status, 200);
});

test("a restarted control plane adopts running and stopped sandboxes", async () => {
  const first = await boot();
  await first.call("PUT", "/v1/sandboxes/adopt-run", {});
  await first.call("PUT", "/v1/sandboxes/adopt-stop", {});
  await first.app.close();
  await driver.stop("adopt-stop"); // e.g. the host rebooted it away
  const second = await boot({}, first.dir);
  const l = await second.call("GET", "/v1/sandboxes");
  const byId = Object.fromEntries(l.body.sandboxes.map((s: any) => [s.id, s.status]));
  assert.deepEqual(byId, { "adopt-run": "running", "adopt-stop": "sleeping" });
  assert.equal((await second.call("GET", "/v1/sandboxes/adopt-stop/api/headers")).status, 200);
  assert.equal(second.app.manager.get("adopt-stop").status, "running");
});

test("sessions and env set through the agent survive sleep: replayed on wake", async () => {
  const { call, app } = await boot();
  await call("PUT", "/v1/sandboxes/st-1", {});
  const box = driver.boxes.get("st-1")!;
  assert.equal((await call("POST", "/v1/sandboxes/st-1/api/session/create", { id: "s1", env: { A: "1" }, cwd: "/tmp" })).status, 200);
  assert.equal((await call("POST", "/v1/sandboxes/st-1/api/session/create", {})).body.id, "generated-1");
  await call("POST", "/v1/sandboxes/st-1/api/env", { sessionId: "s1", envVars: { B: "2", A: null } });
  await call("POST", "/v1/sandboxes/st-1/api/env", { envVars: { TOP: "x" } });
  await call("POST", "/v1/sandboxes/st-1/api/session/create", { id: "gone" });
  await call("POST", "/v1/sandboxes/st-1/api/session/delete", { sessionId: "gone" });
  box.sessionCreates.length = 0;
  await call("POST", "/v1/sandboxes/st-1/sleep");
  assert.equal(box.state, "stopped");
  assert.equal((await call("GET", "/v1/sandboxes/st-1/api/headers")).status, 200);
  assert.deepEqual(box.sessionCreates, [{ id: "s1", env: { B: "2" }, cwd: "/tmp" }, { id: "generated-1" }]);
  assert.equal(box.spec.env.TOP, "x");
  assert.equal(app.manager.get("st-1").status, "running");
});

test("a long snapshot does not block calls to its sandbox; names are unique; list and delete", async () => {
  const { call } = await boot();
  await call("PUT", "/v1/sandboxes/snap-src", {});
  driver.snapshotDelayMs = 1500;
  try {
    const t0 = Date.now();
    const pending = call("POST", "/v1/sandboxes/snap-src/snapshots", { name: "s-one" });
    await new Promise((r) => setTimeout(r, 50)); // let the snapshot start
    assert.equal((await call("GET", "/v1/sandboxes/snap-src/api/headers")).status, 200);
    assert.ok(Date.now() - t0 < 1000, "a forwarded call waited for the snapshot");
    assert.equal((await call("POST", "/v1/sandboxes/snap-src/snapshots", { name: "s-one" })).body.code, "SNAPSHOT_EXISTS");
    const done = await pending;
    assert.equal(done.status, 201);
    assert.deepEqual({ name: done.body.name, sandboxId: done.body.sandboxId, sizeBytes: done.body.sizeBytes }, { name: "s-one", sandboxId: "snap-src", sizeBytes: 42 });
  } finally {
    driver.snapshotDelayMs = 0;
  }
  assert.deepEqual((await call("GET", "/v1/snapshots")).body.snapshots.map((s: any) => s.name), ["s-one"]);
  const fork = await call("PUT", "/v1/sandboxes/snap-fork", { fromSnapshot: "s-one" });
  assert.equal(fork.status, 201);
  assert.match(driver.boxes.get("snap-fork")!.spec.fromSnapshotDir ?? "", /snapshots\/s-one$/);
  assert.equal((await call("DELETE", "/v1/snapshots/s-one")).status, 200);
  assert.deepEqual((await call("GET", "/v1/snapshots")).body.snapshots, []);
});

test("graceful shutdown: an in-flight stream finishes, new connections are refused", async () => {
  const { url, app, call } = await boot({ shutdownGraceMs: 5000 });
  await call("PUT", "/v1/sandboxes/shut-1", {});
  const res = await fetch(url + "/v1/sandboxes/shut-1/api/sse?n=3&gap=300", { headers: { authorization: `Bearer ${app.apiKey}` } });
  const reader = res.body!.getReader();
  await reader.read(); // first event: the stream is in flight
  const closing = app.close();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  assert.equal((text.match(/^data: /gm) ?? []).length, 2, "the rest of the stream arrived");
  await closing;
  const after = await fetch(url + "/v1/health").then((r) => `${r.status} ${r.headers.get("connection")}`, (e) => `refused ${e.cause?.code ?? e.message}`);
  assert.match(after, /^refused/);
});

test("config from env: defaults, overrides and bad values", async () => {
  const { configFromEnv } = await import("../src/config.js");
  const d = configFromEnv({});
  assert.equal(d.dataDir, "/var/lib/atoll");
  assert.equal(d.host, "127.0.0.1");
  assert.equal(d.port, 8787);
  assert.deepEqual(d.previewDomains, ["localhost"]);
  assert.equal(d.defaultSleepAfterMs, 600_000);
  assert.deepEqual(d.defaultLimits, { cpu: 1, memoryMiB: 1024, pids: 512, diskMiB: 2048 });
  const o = configFromEnv({ ATOLL_PORT: "9000", ATOLL_PREVIEW_DOMAINS: "a.example, B.example", ATOLL_MAX_MEMORY_MIB: "512", ATOLL_SLEEP_AFTER: "30s", ATOLL_API_KEY: "x" });
  assert.equal(o.port, 9000);
  assert.deepEqual(o.previewDomains, ["a.example", "b.example"]);
  assert.equal(o.maxLimits.memoryMiB, 512);
  assert.equal(o.defaultSleepAfterMs, 30_000);
  assert.equal(o.apiKey, "x");
  assert.throws(() => configFromEnv({ ATOLL_PORT: "nope" }), /Cannot read ATOLL_PORT/);
  assert.throws(() => configFromEnv({ ATOLL_RUNTIME: "docker" }), /Cannot use ATOLL_RUNTIME/);
  const t = configFromEnv({ ATOLL_PUBLIC_PROTOCOL: "http", ATOLL_TEMPLATE_SOURCE_DIRS: "/a:/b", ATOLL_OCI_TRACE: "1" });
  assert.equal(t.publicProtocol, "http");
  assert.deepEqual(t.templateSourceDirs, ["/a", "/b"]);
  assert.equal(t.ociTrace, true);
  assert.throws(() => configFromEnv({ ATOLL_PUBLIC_PROTOCOL: "ftp" }), /Cannot use ATOLL_PUBLIC_PROTOCOL/);
});

test("config.ts is the only server module that reads ATOLL_* variables", async () => {
  const { readdirSync, readFileSync } = await import("node:fs");
  const path = await import("node:path");
  const root = new URL("../src/", import.meta.url).pathname;
  const offenders: string[] = [];
  for (const f of readdirSync(root, { recursive: true }) as string[]) {
    if (!f.endsWith(".ts") || f === "config.ts" || f === "bin.ts") continue; // bin.ts: process-level switches before config exists
    const src = readFileSync(path.join(root, f), "utf8");
    for (const m of src.matchAll(/(?:process\.env|\benv)(?:\.|\[")(ATOLL_[A-Z0-9_]+)/g)) {
      const after = src.slice(m.index! + m[0].length).trimStart();
      if (!after.startsWith("=") || after.startsWith("==")) offenders.push(`${f}: ${m[1]}`); // writes (spec env) are fine
    }
  }
  assert.deepEqual(offenders, []);
});
