// Bad input against the real server: every case is a coded 4xx and the server stays up.
// One real sandbox checks that bad input forwarded to the agent is answered by the agent, too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { startAtoll, exec, type Atoll } from "./harness.js";

let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0, env: { ATOLL_MAX_MEMORY_MIB: "2048", ATOLL_MAX_JSON_BODY: "65536" } });
});
after(async () => {
  await atoll?.stop();
});

function raw(data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(atoll.port, "127.0.0.1");
    let out = "";
    s.on("data", (d) => (out += d.toString()));
    s.on("end", () => resolve(out));
    s.on("error", reject);
    s.write(data);
  });
}

test("REST bad input: coded 4xx, nothing created", { timeout: 120_000 }, async () => {
  const cases: [string, string, unknown, number, string][] = [
    ["PUT", "/v1/sandboxes/bi-x", "{\"envVars\": ", 400, "INVALID_JSON"],
    ["PUT", "/v1/sandboxes/BAD", {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", "/v1/sandboxes/bad..id", {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", "/v1/sandboxes/a%00b", {}, 400, "INVALID_SANDBOX_ID"],
    ["PUT", "/v1/sandboxes/bi-x", { envVars: { X: "a\u0000b" } }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/bi-x", { limits: { memoryMiB: 4096 } }, 400, "LIMIT_EXCEEDED"],
    ["PUT", "/v1/sandboxes/bi-x", { limits: { cpu: 0 } }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/bi-x", { sleepAfter: "0s" }, 400, "VALIDATION_FAILED"],
    ["PUT", "/v1/sandboxes/bi-x", "z".repeat(200_000), 413, "PAYLOAD_TOO_LARGE"],
    ["GET", "/v1/what", undefined, 404, "NOT_FOUND"],
    ["DELETE", "/v1/sandboxes", undefined, 405, "METHOD_NOT_ALLOWED"],
    ["POST", "/v1/sandboxes/bi-nope/api/execute", { command: "true" }, 404, "SANDBOX_NOT_FOUND"],
    ["POST", "/v1/sandboxes/bi-nope/pause", undefined, 404, "SANDBOX_NOT_FOUND"],
    ["POST", "/v1/templates", { name: "t", source: { type: "rootfs", path: "relative" } }, 400, "INVALID_TEMPLATE"],
  ];
  for (const [m, p, b, st, code] of cases) {
    const r = typeof b === "string" ? await atoll.json(m, p, undefined, { body: b, headers: { "content-type": "application/json" } }) : await atoll.json(m, p, b);
    assert.equal(r.status, st, `${m} ${p}: ${JSON.stringify(r.body).slice(0, 300)}`);
    assert.equal(r.body.code, code, `${m} ${p}: ${JSON.stringify(r.body).slice(0, 300)}`);
  }
  assert.deepEqual((await atoll.json("GET", "/v1/sandboxes")).body.sandboxes, []);
});

test("malformed HTTP gets a 4xx and the server stays up", { timeout: 120_000 }, async () => {
  assert.match(await raw("GET /v1/health\0 HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.match(await raw("NOT HTTP AT ALL\r\n\r\n"), /^HTTP\/1\.1 400/);
  assert.match(await raw(`GET /v1/health HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(100_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  assert.equal((await fetch(atoll.url + "/v1/health")).status, 200);
});

test("bad input forwarded to a real agent is a coded 4xx from the agent", { timeout: 120_000 }, async () => {
  assert.equal((await atoll.json("PUT", "/v1/sandboxes/bi-real", { limits: { memoryMiB: 256 } })).status, 201);
  const badJson = await atoll.json("POST", "/v1/sandboxes/bi-real/api/execute", undefined, { body: "{nope", headers: { "content-type": "application/json" } });
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.code, "INVALID_JSON");
  const noCmd = await atoll.json("POST", "/v1/sandboxes/bi-real/api/execute", { command: 42 });
  assert.ok(noCmd.status >= 400 && noCmd.status < 500, JSON.stringify(noCmd.body));
  assert.equal(typeof noCmd.body.code, "string");
  const nul = await atoll.json("POST", "/v1/sandboxes/bi-real/api/read", { path: "/etc/\u0000passwd" });
  assert.ok(nul.status >= 400 && nul.status < 500, JSON.stringify(nul.body));
  // still fine afterwards
  assert.equal((await exec(atoll, "bi-real", "echo ok")).stdout, "ok\n");
  assert.equal((await fetch(atoll.url + "/v1/health")).status, 200);
});
