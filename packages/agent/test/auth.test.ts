// The agent's own gate (src/auth.ts, readJson in src/http.ts), on a real agent process started with
// a key verifier as the oci driver starts it: requests without the key, with a wrong key, with an
// Origin header or with a non-JSON body on a JSON route are refused with coded errors; the key
// opens JSON and raw routes; the verifier does not reach user processes. The whole attack chain
// (browser, host users, firewall) is in tests/security/agent-access.test.ts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { AGENT_KEY_HEADER, AGENT_KEY_VERIFIER_ENV } from "@atoll/protocol";
import { keyVerifier } from "../src/auth.js";
import { startAgent, type TestAgent } from "./files-helper.js";

const KEY = "0123456789abcdef-test-key";
let agent: TestAgent;

before(async () => {
  // ATOLL_AGENT_AUTH=off (the helper's dev default) is ignored when a verifier is configured.
  agent = await startAgent({ [AGENT_KEY_VERIFIER_ENV]: keyVerifier(KEY) });
});
after(async () => {
  await agent?.stop();
});

async function send(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(agent.url + path, init);
  const text = await r.text();
  let body: any = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, body };
}

const execBody = (file: string) => JSON.stringify({ command: `touch ${file}` });

test("no key or a wrong key: 401 AGENT_UNAUTHORIZED, the command does not run", async () => {
  const file = `${agent.workspace}/pwned-no-key`;
  for (const headers of [{ "content-type": "application/json" }, { "content-type": "application/json", [AGENT_KEY_HEADER]: "wrong" }, { "content-type": "application/json", [AGENT_KEY_HEADER]: "" }] as Record<string, string>[]) {
    const r = await send("/api/execute", { method: "POST", headers, body: execBody(file) });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, "AGENT_UNAUTHORIZED");
  }
  const v = await send("/api/version");
  assert.equal(v.status, 401, "even read-only routes need the key");
  const exists = await send("/api/exists", { method: "POST", headers: { "content-type": "application/json", [AGENT_KEY_HEADER]: KEY }, body: JSON.stringify({ path: file }) });
  assert.equal(exists.status, 200);
  assert.equal(exists.body.exists, false);
});

// (The verifier stays in /proc/<agent>/environ, the exec-time environment: it is a hash, not the
// key, so reading it opens nothing; see docs/security.md.)
test("the right key opens JSON routes; the verifier is not in a command's environment", async () => {
  const r = await send("/api/execute", { method: "POST", headers: { "content-type": "application/json; charset=utf-8", [AGENT_KEY_HEADER]: KEY }, body: JSON.stringify({ command: "env" }) });
  assert.equal(r.status, 200);
  assert.equal(r.body.exitCode, 0);
  assert.ok(r.body.stdout.includes("PATH="));
  assert.ok(!r.body.stdout.includes(AGENT_KEY_VERIFIER_ENV), "verifier leaked into user env");
  assert.ok(!r.body.stdout.includes(keyVerifier(KEY)), "verifier value leaked into user env");
});

test("an Origin header is refused even with the key (403 ORIGIN_NOT_ALLOWED)", async () => {
  const file = `${agent.workspace}/pwned-origin`;
  const r = await send("/api/execute", { method: "POST", headers: { "content-type": "application/json", origin: "http://1234-a-tok.localhost:8787", [AGENT_KEY_HEADER]: KEY }, body: execBody(file) });
  assert.equal(r.status, 403);
  assert.equal(r.body.code, "ORIGIN_NOT_ALLOWED");
  const none = await send("/api/execute", { method: "POST", headers: { "content-type": "application/json", origin: "null", [AGENT_KEY_HEADER]: KEY }, body: execBody(file) });
  assert.equal(none.status, 403);
});

test("non-JSON bodies on JSON routes are refused (415 UNSUPPORTED_MEDIA_TYPE), even with the key", async () => {
  const file = `${agent.workspace}/pwned-type`;
  for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
    const headers: Record<string, string> = { [AGENT_KEY_HEADER]: KEY };
    if (type) headers["content-type"] = type;
    const r = await send("/api/execute", { method: "POST", headers, body: Buffer.from(execBody(file)) });
    assert.equal(r.status, 415, `content-type ${type}`);
    assert.equal(r.body.code, "UNSUPPORTED_MEDIA_TYPE");
  }
  const exists = await send("/api/exists", { method: "POST", headers: { "content-type": "application/json", [AGENT_KEY_HEADER]: KEY }, body: JSON.stringify({ path: file }) });
  assert.equal(exists.body.exists, false);
});

test("raw upload keeps its octet-stream type and needs the key", async () => {
  const path = `${agent.workspace}/raw.bin`;
  const url = `/api/files/raw?path=${encodeURIComponent(path)}`;
  const denied = await send(url, { method: "PUT", headers: { "content-type": "application/octet-stream" }, body: "denied" });
  assert.equal(denied.status, 401);
  const ok = await send(url, { method: "PUT", headers: { "content-type": "application/octet-stream", [AGENT_KEY_HEADER]: KEY }, body: "hello" });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  const back = await send(url, { headers: { [AGENT_KEY_HEADER]: KEY } });
  assert.equal(back.body, "hello");
});

test("an agent with neither a verifier nor the dev switch refuses everything", async () => {
  const closed = await startAgent({ ATOLL_AGENT_AUTH: "" });
  try {
    const r = await fetch(`${closed.url}/api/version`, { headers: { [AGENT_KEY_HEADER]: KEY } });
    assert.equal(r.status, 401);
    assert.equal(((await r.json()) as { code: string }).code, "AGENT_UNAUTHORIZED");
  } finally {
    await closed.stop();
  }
});
