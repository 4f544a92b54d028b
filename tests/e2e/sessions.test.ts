// Sessions and setEnvVars in a real sandbox through the control plane.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createSandbox, startAtoll, type Atoll } from "./harness.js";
import { agentCall, run } from "./exec-helpers.js";

const ID = "e2e-sessions";
let atoll: Atoll;

before(async () => {
  atoll = await startAtoll();
  await createSandbox(atoll, ID);
});
after(async () => {
  await atoll?.stop();
});

test("two sessions are isolated shells over one filesystem", async () => {
  assert.equal((await agentCall(atoll, ID, "POST", "/session/create", { id: "a" })).status, 200);
  assert.equal((await agentCall(atoll, ID, "POST", "/session/create", { id: "b", cwd: "/tmp", env: { ONLY_B: "yes" } })).status, 200);
  await run(atoll, ID, "cd /etc && export A_VAR=1 && echo shared > /workspace/shared.txt", { sessionId: "a" });
  assert.equal((await run(atoll, ID, "pwd; echo $A_VAR", { sessionId: "a" })).stdout, "/etc\n1\n");
  assert.equal((await run(atoll, ID, 'pwd; echo "[${A_VAR-}] $ONLY_B"; cat /workspace/shared.txt', { sessionId: "b" })).stdout, "/tmp\n[] yes\nshared\n");
  const list = await agentCall(atoll, ID, "GET", "/session/list");
  assert.ok(["a", "b"].every((s) => list.body.data.includes(s)));
});

test("exit restarts the shell; exported state of earlier commands survives", async () => {
  await agentCall(atoll, ID, "POST", "/session/create", { id: "ex" });
  await run(atoll, ID, "cd /srv && export KEEP=k", { sessionId: "ex" });
  assert.equal((await run(atoll, ID, "exit 5", { sessionId: "ex" })).exitCode, 5);
  assert.equal((await run(atoll, ID, "pwd; echo $KEEP", { sessionId: "ex" })).stdout, "/srv\nk\n");
});

test("session errors are coded", async () => {
  await agentCall(atoll, ID, "POST", "/session/create", { id: "dup" });
  const d = await agentCall(atoll, ID, "POST", "/session/create", { id: "dup" });
  assert.deepEqual([d.status, d.body.code], [409, "SESSION_EXISTS"]);
  const p = await agentCall(atoll, ID, "POST", "/session/delete", { sessionId: "default" });
  assert.deepEqual([p.status, p.body.code], [409, "SESSION_PROTECTED"]);
  const n = await agentCall(atoll, ID, "POST", "/session/delete", { sessionId: "ghost" });
  assert.deepEqual([n.status, n.body.code], [404, "SESSION_NOT_FOUND"]);
  assert.equal((await agentCall(atoll, ID, "POST", "/session/delete", { sessionId: "dup" })).status, 200);
  const gone = await agentCall(atoll, ID, "POST", "/execute", { command: "true", sessionId: "dup" });
  assert.equal(gone.body.code, "SESSION_NOT_FOUND");
});

test("setEnvVars values survive unchanged in execs and in processes started later", async () => {
  const v = `q'uo"te $HOME \`x\` \\ sp ace\nnewline`;
  assert.equal((await agentCall(atoll, ID, "POST", "/env", { envVars: { TRICKY: v } })).status, 200);
  assert.equal((await run(atoll, ID, 'printf "%s" "$TRICKY"')).stdout, v);
  const s = await agentCall(atoll, ID, "POST", "/process/start", { command: 'printf "%s" "$TRICKY"' });
  const w = await agentCall(atoll, ID, "GET", `/process/${s.body.processId}/wait?timeoutMs=10000`);
  assert.equal(w.body.process.status, "completed");
  assert.equal((await agentCall(atoll, ID, "GET", `/process/${s.body.processId}/logs`)).body.stdout, v);
});
