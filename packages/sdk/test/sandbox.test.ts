// Client behaviour against a loopback stand-in for the control plane (wire shapes only;
// the real stack is exercised in tests/e2e/sdk.test.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ErrorCode, errorBody } from "@atoll/protocol";
import { createClient, getSandbox, SandboxError } from "../src/index.js";
import { fakeServer, json } from "./helpers.js";

test("getSandbox sends one PUT with the options before the first call, even for concurrent calls", async (t) => {
  const srv = await fakeServer((r, res) => {
    if (r.method === "PUT") return setTimeout(() => json(res, 200, { id: "box", status: "running" }), 30);
    json(res, 200, { success: true, exists: true, path: "/x", timestamp: "t" });
  });
  t.after(() => srv.close());
  const opts = { envVars: { A: "1" }, sleepAfter: "5m", keepAlive: true, limits: { memoryMiB: 256 } };
  const sb = getSandbox(createClient({ url: srv.url, apiKey: "k" }), "box", { ...opts, baseUrl: "https://ignored.example" });
  assert.equal(srv.requests.length, 0, "nothing is sent by getSandbox itself");
  await Promise.all([sb.exists("/x"), sb.exists("/y"), sb.exists("/z")]);
  const puts = srv.requests.filter((r) => r.method === "PUT");
  assert.equal(puts.length, 1);
  assert.equal(puts[0]!.url, "/v1/sandboxes/box");
  assert.deepEqual(JSON.parse(puts[0]!.body), opts, "Cloudflare's baseUrl option is accepted and not sent");
  assert.equal(srv.requests.filter((r) => r.url === "/v1/sandboxes/box/api/exists").length, 3);
});

test("a failed PUT is retried by the next call", async (t) => {
  let n = 0;
  const srv = await fakeServer((r, res) => {
    if (r.method === "PUT") return n++ === 0 ? json(res, 503, errorBody(ErrorCode.SANDBOX_UNAVAILABLE, "Cannot start: busy")) : json(res, 200, { id: "box" });
    json(res, 200, { success: true, exists: false, path: "/", timestamp: "t" });
  });
  t.after(() => srv.close());
  const sb = getSandbox(createClient({ url: srv.url }), "box");
  await assert.rejects(sb.exists("/"), (e: unknown) => e instanceof SandboxError && e.code === "SANDBOX_UNAVAILABLE");
  assert.equal((await sb.exists("/")).exists, false);
  assert.equal(n, 2);
});

test("SANDBOX_NOT_FOUND from a call re-creates the sandbox and retries once", async (t) => {
  let gone = true;
  const srv = await fakeServer((r, res) => {
    if (r.method === "PUT") return json(res, 200, { id: "box" });
    if (gone) {
      gone = false;
      return json(res, 404, errorBody(ErrorCode.SANDBOX_NOT_FOUND, "Cannot find sandbox box"));
    }
    json(res, 200, { success: true, exists: true, path: "/", timestamp: "t" });
  });
  t.after(() => srv.close());
  const sb = getSandbox(createClient({ url: srv.url }), "box");
  assert.equal((await sb.exists("/")).exists, true);
  assert.deepEqual(srv.requests.map((r) => r.method), ["PUT", "POST", "PUT", "POST"]);
});

test("exec sends timeout/env/cwd and the session id; sessions bind their id", async (t) => {
  const srv = await fakeServer((r, res) => {
    if (r.method === "PUT") return json(res, 200, { id: "box" });
    if (r.url.endsWith("/session/create")) return json(res, 200, { success: true, id: "s1", sessionId: "s1" });
    json(res, 200, { success: true, exitCode: 0, stdout: "ok\n", stderr: "", command: "x", duration: 1, timestamp: "t" });
  });
  t.after(() => srv.close());
  const sb = getSandbox(createClient({ url: srv.url }), "box");
  const r = await sb.exec("echo ok", { timeout: 1500, env: { A: "b" }, cwd: "/tmp" });
  assert.equal(r.stdout, "ok\n");
  assert.equal(r.success, true);
  const s = await sb.createSession({ id: "s1", env: { X: "1" } });
  assert.equal(s.id, "s1");
  await s.exec("pwd");
  const bodies = srv.requests.filter((q) => q.url.endsWith("/api/execute")).map((q) => JSON.parse(q.body));
  assert.deepEqual(bodies[0], { command: "echo ok", timeoutMs: 1500, env: { A: "b" }, cwd: "/tmp" });
  assert.deepEqual(bodies[1], { command: "pwd", sessionId: "s1" });
});

test("setEnvVars rejects names that are not shell identifiers without sending anything", async () => {
  const sb = getSandbox(createClient({ url: "http://127.0.0.1:1" }), "box");
  await assert.rejects(sb.setEnvVars({ "A;rm -rf /": "x" }), (e: unknown) => e instanceof SandboxError && e.code === "VALIDATION_FAILED");
});
