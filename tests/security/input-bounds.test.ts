// Input bounds at the control plane and the agent (issue 16, "Env size" and "Smaller"), against a
// real server and a real sandbox. Each case: the attacker, the attack, the refusal expected; it
// fails if the attack works.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import Database from "better-sqlite3";
import path from "node:path";
import { createClient, getSandbox } from "@atoll/sdk";
import { ENV_BOUNDS } from "@atoll/protocol";
import { startAtoll, createSandbox, exec, type Atoll } from "../e2e/harness.js";
import { send, startFixture } from "../e2e/preview-helpers.js";

let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});

const KB = 1024;
const big = (n: number, c = "x") => c.repeat(n);

/** Sends raw bytes and collects the answer until the server closes (or `until` matches). */
function raw(data: string | Buffer[], until?: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(atoll.port, "127.0.0.1");
    let out = "";
    s.on("data", (d) => {
      out += d.toString("latin1");
      if (until?.test(out)) s.destroy();
    });
    s.on("close", () => resolve(out));
    s.on("error", reject);
    if (typeof data === "string") s.write(data);
    else for (const b of data) s.write(b);
  });
}
const bodyOf = (res: string) => JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4));

test("careless or hostile caller: oversized env on create (PUT) is a coded 400, and repeated PUTs cannot grow the stored env past its bound", { timeout: 120_000 }, async () => {
  // one value over 32 KiB, names over 256 bytes, one call over 128 KiB, more than 256 variables
  const cases: [string, Record<string, string>][] = [
    ["value", { BIG: big(ENV_BOUNDS.valueBytes + 1) }],
    ["name", { ["N" + big(ENV_BOUNDS.nameBytes)]: "v" }],
    ["set", Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`V${i}`, big(30 * KB)]))],
    ["vars", Object.fromEntries(Array.from({ length: ENV_BOUNDS.vars + 1 }, (_, i) => [`V${i}`, "v"]))],
  ];
  for (const [what, envVars] of cases) {
    const r = await atoll.json("PUT", "/v1/sandboxes/ib-put", { envVars });
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body).slice(0, 200)}`);
    assert.equal(r.body.code, "LIMIT_EXCEEDED", what);
    assert.match(r.body.message, /^Cannot use envVars: /);
  }
  assert.equal((await atoll.json("GET", "/v1/sandboxes/ib-put")).status, 404, "nothing was created");

  // The attack that bricked a sandbox: many calls, each within bounds, adding up to megabytes.
  await createSandbox(atoll, "ib-put", { envVars: { A0: big(30 * KB) } });
  let refused = -1;
  for (let i = 1; i < 40; i++) {
    const r = await atoll.json("PUT", "/v1/sandboxes/ib-put", { envVars: { [`A${i}`]: big(30 * KB) } });
    if (r.status === 400) {
      assert.equal(r.body.code, "LIMIT_EXCEEDED");
      refused = i;
      break;
    }
    assert.equal(r.status, 200);
  }
  assert.ok(refused > 0 && refused * 30 * KB <= ENV_BOUNDS.keptBytes + 30 * KB, `stored env refused at call ${refused}`);
  // What was kept still lets the sandbox run commands and wake from sleep.
  assert.equal((await exec(atoll, "ib-put", "echo ${#A0}")).stdout, `${30 * KB}\n`);
  assert.equal((await atoll.json("POST", "/v1/sandboxes/ib-put/sleep")).status, 200);
  const woke = await exec(atoll, "ib-put", "echo ${#A1}");
  assert.equal(woke.status, 200, JSON.stringify(woke.body).slice(0, 300));
  assert.equal(woke.stdout, `${30 * KB}\n`);
  await atoll.json("DELETE", "/v1/sandboxes/ib-put");
});

test("code calling the agent API: oversized env in setEnvVars, sessions, exec and background processes is a coded 400; repeated setEnvVars cannot reach E2BIG", { timeout: 180_000 }, async () => {
  await createSandbox(atoll, "ib-agent");
  const api = (p: string, body: unknown) => atoll.json("POST", `/v1/sandboxes/ib-agent/api/${p}`, body, { signal: AbortSignal.timeout(60_000) });
  const huge = { BIG: big(ENV_BOUNDS.valueBytes + 1) };
  for (const [p, body] of [
    ["env", { envVars: huge }],
    ["session/create", { id: "s-big", env: huge }],
    ["execute", { command: "true", env: huge }],
    ["execute/stream", { command: "true", env: huge }],
    ["process/start", { command: "sleep 1", env: huge }],
  ] as const) {
    const r = await api(p, body);
    assert.equal(r.status, 400, `${p}: ${JSON.stringify(r.body).slice(0, 200)}`);
    assert.equal(r.body.code, "LIMIT_EXCEEDED", p);
  }
  // 40 × 30 KiB through setEnvVars (each call within bounds): refused before the env gets big.
  let refused = -1;
  for (let i = 0; i < 40; i++) {
    const r = await api("env", { envVars: { [`E${i}`]: big(30 * KB) } });
    if (r.status === 400) {
      assert.equal(r.body.code, "LIMIT_EXCEEDED");
      refused = i;
      break;
    }
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 200));
  }
  assert.ok(refused > 0 && refused <= 9, `setEnvVars refused at call ${refused}`);
  // The same with a named session.
  assert.equal((await api("session/create", { id: "s1" })).status, 200);
  refused = -1;
  for (let i = 0; i < 40; i++) {
    const r = await api("env", { sessionId: "s1", envVars: { [`S${i}`]: big(30 * KB) } });
    if (r.status === 400) {
      refused = i;
      break;
    }
  }
  assert.ok(refused > 0 && refused <= 9, `session setEnvVars refused at call ${refused}`);
  // Commands still run in both, with an extra exec env on top (no E2BIG).
  const r1 = await exec(atoll, "ib-agent", "/bin/true && echo ok", { env: { X: big(30 * KB) } });
  assert.equal(r1.stdout, "ok\n", JSON.stringify(r1.body).slice(0, 300));
  const r2 = await exec(atoll, "ib-agent", "/bin/true && echo ok", { sessionId: "s1", env: { X: big(30 * KB) } });
  assert.equal(r2.stdout, "ok\n", JSON.stringify(r2.body).slice(0, 300));
  // …and after a sleep the sandbox starts again with what was kept.
  assert.equal((await atoll.json("POST", "/v1/sandboxes/ib-agent/sleep")).status, 200);
  const woke = await exec(atoll, "ib-agent", "echo ${#E0}");
  assert.equal(woke.status, 200, JSON.stringify(woke.body).slice(0, 300));
  assert.equal(woke.stdout, `${30 * KB}\n`);
  await atoll.json("DELETE", "/v1/sandboxes/ib-agent");
});

test("state stored before the bounds (2.3 MB env) does not brick a sandbox: it starts without the oversized variables and says so", { timeout: 180_000 }, async () => {
  await createSandbox(atoll, "ib-legacy", { envVars: { KEEP: "kept" } });
  assert.equal((await atoll.json("POST", "/v1/sandboxes/ib-legacy/sleep")).status, 200);
  // What an older version stored after 40 × 60 KB setEnvVars calls, written while the server is down.
  await atoll.kill9();
  const db = new Database(path.join(atoll.dataDir, "atoll.db"));
  const env: Record<string, string> = { KEEP: "kept" };
  for (let i = 0; i < 40; i++) env[`HUGE${i}`] = big(60 * 1000, "y");
  db.prepare("UPDATE sandboxes SET env = ? WHERE id = ?").run(JSON.stringify(env), "ib-legacy");
  db.close();
  await atoll.restart();
  const r = await exec(atoll, "ib-legacy", "echo $KEEP ${HUGE0:-none}");
  assert.equal(r.status, 200, `the sandbox must start: ${JSON.stringify(r.body).slice(0, 300)}`);
  assert.equal(r.stdout, "kept none\n");
  assert.match(atoll.logs(), /ib-legacy: stored env was over the bounds .* started without 40 variable\(s\): HUGE/);
  // The stored env is back within bounds: the next wake needs no trimming.
  assert.equal((await atoll.json("POST", "/v1/sandboxes/ib-legacy/sleep")).status, 200);
  assert.equal((await exec(atoll, "ib-legacy", "echo $KEEP")).stdout, "kept\n");
  await atoll.json("DELETE", "/v1/sandboxes/ib-legacy");
});

test("caller with a forged Host header: 'a.com@evil.example' never ends up in a returned preview URL", { timeout: 120_000 }, async () => {
  await createSandbox(atoll, "ib-host");
  const auth = { authorization: `Bearer ${atoll.apiKey}`, "content-type": "application/json" };
  for (const host of ["a.com@evil.example", "evil.example/x?", "a.com:80@evil.example", "a b.com", "-bad-.com"]) {
    const post = await send(atoll.port, host, { method: "POST", path: "/v1/sandboxes/ib-host/ports", headers: auth, body: JSON.stringify({ port: 8080 }) });
    assert.equal(post.status, 400, `POST with Host ${host}: ${post.body}`);
    assert.equal(JSON.parse(post.body.toString()).code, "VALIDATION_FAILED");
    const list = await send(atoll.port, host, { path: "/v1/sandboxes/ib-host/ports", headers: auth });
    assert.equal(list.status, 400, `GET with Host ${host}: ${list.body}`);
  }
  // ?hostname= and body hostname get the same check; a sound Host still works.
  assert.equal((await atoll.json("GET", "/v1/sandboxes/ib-host/ports?hostname=" + encodeURIComponent("a.com@evil.example"))).status, 400);
  assert.equal((await atoll.json("POST", "/v1/sandboxes/ib-host/ports", { port: 8080, hostname: "a.com@evil.example" })).status, 400);
  const ok = await send(atoll.port, "preview.example.com:8443", { method: "POST", path: "/v1/sandboxes/ib-host/ports", headers: auth, body: JSON.stringify({ port: 8080 }) });
  assert.equal(ok.status, 200, ok.body.toString());
  assert.match(JSON.parse(ok.body.toString()).url, /^https:\/\/8080-ib-host-[a-z0-9_]{16}\.preview\.example\.com:8443\/$/);
  await atoll.json("DELETE", "/v1/sandboxes/ib-host");
});

test("preview tokens use [a-z0-9_] only: a token never ends a host label with '-'", { timeout: 120_000 }, async () => {
  await createSandbox(atoll, "ib-tok");
  for (let port = 8100; port < 8160; port++) {
    const r = await atoll.json("POST", "/v1/sandboxes/ib-tok/ports", { port, hostname: "preview.example.com" });
    assert.equal(r.status, 200);
    const label = new URL(r.body.url).hostname.split(".")[0]!;
    assert.match(label, /^\d+-ib-tok-[a-z0-9_]{16}$/, label);
  }
  await atoll.json("DELETE", "/v1/sandboxes/ib-tok");
});

test("careless caller: sleepAfter of 3.6e26 ms (or any over 7 days) is a coded 400 on PUT and PATCH", { timeout: 60_000 }, async () => {
  for (const sleepAfter of [3.6e23, "99999999999d", "8d", 7 * 86400 + 1]) {
    const r = await atoll.json("PUT", "/v1/sandboxes/ib-sleep", { sleepAfter });
    assert.equal(r.status, 400, `PUT ${sleepAfter}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.code, "VALIDATION_FAILED");
  }
  assert.equal((await atoll.json("GET", "/v1/sandboxes/ib-sleep")).status, 404);
  await createSandbox(atoll, "ib-sleep", { sleepAfter: "7d" });
  const p = await atoll.json("PATCH", "/v1/sandboxes/ib-sleep", { sleepAfter: 3.6e23 });
  assert.equal(p.status, 400);
  assert.equal(p.body.code, "VALIDATION_FAILED");
  assert.equal((await atoll.json("GET", "/v1/sandboxes/ib-sleep")).body.sleepAfterMs, 7 * 86_400_000);
  await atoll.json("DELETE", "/v1/sandboxes/ib-sleep");
});

test("client sending oversized heads: a 431 answer says httpStatus 431 (API and preview paths)", { timeout: 120_000 }, async () => {
  // API: node:http refuses the head.
  const api = await raw(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX: ${big(100 * KB, "a")}\r\n\r\n`);
  assert.match(api, /^HTTP\/1\.1 431 /);
  assert.deepEqual([bodyOf(api).httpStatus, bodyOf(api).code], [431, "HEADERS_TOO_LARGE"]);
  // Preview: the front door refuses the second head on a connection it already proxies.
  await createSandbox(atoll, "ib-431");
  const sb = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "ib-431");
  await startFixture(sb, 8080);
  const host = new URL((await sb.exposePort(8080, { hostname: `localhost:${atoll.port}` })).url).host;
  const res = await raw(`GET /1k HTTP/1.1\r\nHost: ${host}\r\n\r\nGET /1k HTTP/1.1\r\nHost: ${host}\r\nX: ${big(100 * KB, "a")}\r\n\r\n`, /HTTP\/1\.1 431[\s\S]*\}$/);
  const second = res.slice(res.lastIndexOf("HTTP/1.1 "));
  assert.match(second, /^HTTP\/1\.1 431 /);
  assert.deepEqual([bodyOf(second).httpStatus, bodyOf(second).code], [431, "HEADERS_TOO_LARGE"]);
  await atoll.json("DELETE", "/v1/sandboxes/ib-431");
});
