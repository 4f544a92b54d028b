// Integration tests of sessions and setEnvVars against the real bundled agent and bash.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { SSE, alive, call, exec, get, post, startAgent, until, type Agent } from "./exec-harness.js";

let agent: Agent;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent?.stop();
});

test("cd and export persist within a session and not into another", async () => {
  assert.equal((await post(agent.url, "/api/session/create", { id: "s1" })).status, 200);
  assert.equal((await post(agent.url, "/api/session/create", { id: "s2" })).status, 200);
  await exec(agent.url, "cd /tmp && export X=1", { sessionId: "s1" });
  assert.equal((await exec(agent.url, "pwd; echo $X", { sessionId: "s1" })).stdout, "/tmp\n1\n");
  const other = await exec(agent.url, 'pwd; echo "[${X-unset}]"', { sessionId: "s2" });
  assert.equal(other.stdout, `${agent.workdir}\n[unset]\n`);
});

test("functions, aliases and unexported variables persist in a session", async () => {
  await post(agent.url, "/api/session/create", { id: "fa" });
  await exec(agent.url, "greet() { echo \"hi $1\"; }; alias ll='echo aliased'; LOCALV=42", { sessionId: "fa" });
  assert.equal((await exec(agent.url, "greet bob; ll; echo $LOCALV", { sessionId: "fa" })).stdout, "hi bob\naliased\n42\n");
});

test("sessions share the filesystem and the process list", async () => {
  await post(agent.url, "/api/session/create", { id: "fs-a" });
  await post(agent.url, "/api/session/create", { id: "fs-b" });
  const f = path.join(agent.workdir, "shared.txt");
  await exec(agent.url, `echo from-a > ${f}; sleep 30 >/dev/null 2>&1 & echo $!`, { sessionId: "fs-a" });
  assert.equal((await exec(agent.url, `cat ${f}`, { sessionId: "fs-b" })).stdout, "from-a\n");
  const seen = await exec(agent.url, "ps -eo args | grep -c '^sleep 30$'", { sessionId: "fs-b" });
  assert.ok(Number(seen.stdout.trim()) >= 1);
});

test("create accepts env and cwd; list shows sessions with their live cwd", async () => {
  const r = await post(agent.url, "/api/session/create", { id: "withenv", env: { GREETING: "hello world", Q: "it's $x" }, cwd: "/usr" });
  assert.equal(r.status, 200);
  assert.equal(r.body.success, true);
  assert.equal(r.body.id, "withenv");
  assert.equal((await exec(agent.url, 'pwd; echo "$GREETING|$Q"', { sessionId: "withenv" })).stdout, "/usr\nhello world|it's $x\n");
  await exec(agent.url, "cd /etc", { sessionId: "withenv" });
  const list = await get(agent.url, "/api/session/list");
  assert.equal(list.status, 200);
  assert.ok(list.body.data.includes("withenv"));
  assert.equal(list.body.sessions.find((s: any) => s.id === "withenv").cwd, "/etc");
});

test("a session whose PATH hides bash still starts; commands resolve with its PATH", async () => {
  await post(agent.url, "/api/session/create", { id: "nopath", env: { PATH: "/nowhere" } });
  const r = await exec(agent.url, "echo builtin-ok; ls /", { sessionId: "nopath" });
  assert.equal(r.stdout, "builtin-ok\n");
  assert.equal(r.exitCode, 127);
});

test("the number of sessions is capped (LIMIT_EXCEEDED)", async () => {
  // "default" (pre-started) counts too.
  const small = await startAgent({ ATOLL_MAX_SESSIONS: "3" });
  try {
    assert.equal((await post(small.url, "/api/session/create", { id: "one" })).status, 200);
    assert.equal((await post(small.url, "/api/session/create", { id: "two" })).status, 200);
    const r = await post(small.url, "/api/session/create", { id: "three" });
    assert.deepEqual([r.status, r.body.code], [400, "LIMIT_EXCEEDED"]);
    await post(small.url, "/api/session/delete", { sessionId: "one" });
    assert.equal((await post(small.url, "/api/session/create", { id: "three" })).status, 200);
  } finally {
    await small.stop();
  }
});

test("a generated id when none is given", async () => {
  const r = await post(agent.url, "/api/session/create", {});
  assert.equal(r.status, 200);
  assert.match(r.body.id, /^session_\d+_[0-9a-f]+$/);
  assert.equal((await exec(agent.url, "echo ok", { sessionId: r.body.id })).stdout, "ok\n");
});

test("coded errors: SESSION_EXISTS, SESSION_PROTECTED, SESSION_NOT_FOUND, bad cwd", async () => {
  await post(agent.url, "/api/session/create", { id: "dup" });
  let r = await post(agent.url, "/api/session/create", { id: "dup" });
  assert.equal(r.status, 409);
  assert.equal(r.body.code, "SESSION_EXISTS");
  assert.match(r.body.message, /already exists/); // the Cloudflare SDK looks for this phrase
  r = await post(agent.url, "/api/session/delete", { sessionId: "default" });
  assert.equal(r.status, 409);
  assert.equal(r.body.code, "SESSION_PROTECTED");
  r = await post(agent.url, "/api/session/delete", { sessionId: "never-made" });
  assert.equal(r.status, 404);
  assert.equal(r.body.code, "SESSION_NOT_FOUND");
  r = await post(agent.url, "/api/session/create", { id: "badcwd", cwd: "/no/such" });
  assert.equal(r.status, 400);
  assert.equal(r.body.code, "VALIDATION_FAILED");
  r = await post(agent.url, "/api/session/create", { id: "bad id with spaces" });
  assert.equal(r.body.code, "VALIDATION_FAILED");
});

test("delete ends the shell, its running command and its jobs; the id is then unknown", async () => {
  await post(agent.url, "/api/session/create", { id: "doomed" });
  const job = Number((await exec(agent.url, "sleep 60 >/dev/null 2>&1 & echo $!", { sessionId: "doomed" })).stdout.trim());
  const running = new SSE(agent.url + "/api/execute/stream", "POST", { command: "echo started; sleep 60", sessionId: "doomed" });
  await running.until("stdout");
  const del = await post(agent.url, "/api/session/delete", { sessionId: "doomed" });
  assert.equal(del.status, 200);
  assert.equal(del.body.sessionId, "doomed");
  const evs = await running.until("complete");
  assert.notEqual(evs.at(-1).exitCode, 0);
  await until(() => !alive(job), 3000, "the session's background job to die");
  const r = await post(agent.url, "/api/execute", { command: "true", sessionId: "doomed" });
  assert.equal(r.body.code, "SESSION_NOT_FOUND");
});

test("setEnvVars (POST /api/env): quotes, spaces, newlines and $ survive in execs and later processes", async () => {
  const vars = { PLAIN: "v", TRICKY: `a 'b' "c" $HOME \`d\` \\e\nnew line $(echo no)`, EMPTY: "" };
  const r = await post(agent.url, "/api/env", { envVars: vars });
  assert.equal(r.status, 200);
  const out = await exec(agent.url, 'printf "%s|" "$PLAIN" "$TRICKY" "${EMPTY-unset}"');
  assert.equal(out.stdout, `v|${vars.TRICKY}||`);
  const p = await post(agent.url, "/api/process/start", { command: 'printf "%s" "$TRICKY"' });
  const w = await get(agent.url, `/api/process/${p.body.processId}/wait?timeoutMs=5000`);
  assert.equal(w.body.process.status, "completed");
  assert.equal((await get(agent.url, `/api/process/${p.body.processId}/logs`)).body.stdout, vars.TRICKY);
  // Survives a shell restart too.
  await exec(agent.url, "exit 0");
  assert.equal((await exec(agent.url, 'printf "%s" "$TRICKY"')).stdout, vars.TRICKY);
  // null unsets; bad names are refused.
  await post(agent.url, "/api/env", { envVars: { PLAIN: null } });
  assert.equal((await exec(agent.url, 'echo "${PLAIN-unset}"')).stdout, "unset\n");
  const bad = await post(agent.url, "/api/env", { envVars: { "1X": "y" } });
  assert.equal(bad.body.code, "VALIDATION_FAILED");
});

test("Cloudflare-style setEnvVars (export K='escaped' exec) works the same", async () => {
  const value = `it's "x" $y`;
  const escaped = value.replace(/'/g, "'\\''");
  await exec(agent.url, `export CFV='${escaped}'`);
  assert.equal((await exec(agent.url, 'printf "%s" "$CFV"')).stdout, value);
});

test("the workdir exists for files written through sessions", async () => {
  await exec(agent.url, "echo data > in-workdir.txt");
  assert.equal(fs.readFileSync(path.join(agent.workdir, "in-workdir.txt"), "utf8"), "data\n");
  const r = await call(agent.url, "GET", "/api/session/list");
  assert.ok(r.body.data.includes("default"));
});
