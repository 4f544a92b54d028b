// Background processes in a real sandbox through the control plane: an HTTP server (reached from
// inside the sandbox), logs replay + live, kill of the whole tree, statuses, kill-all.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createSandbox, startAtoll, type Atoll } from "./harness.js";
import { Stream, agentCall, run, taggedPids } from "./exec-helpers.js";

const ID = "e2e-process";
let atoll: Atoll;

before(async () => {
  atoll = await startAtoll();
  await createSandbox(atoll, ID);
});
after(async () => {
  await atoll?.stop();
});

test("HTTP server: start, reach it from the sandbox, logs replay + live, kill → killed and no process of its tree left", async () => {
  const port = 8080;
  const server = `require('http').createServer((q,r)=>{console.log('req '+q.url);r.end('hello from sandbox')}).listen(${port},()=>console.log('listening'))`;
  const command = `sleep 300 & (setsid sleep 301 &); echo booting; exec node -e "${server}"`;
  const st = await agentCall(atoll, ID, "POST", "/process/start", { command, processId: "web" });
  assert.equal(st.status, 200, JSON.stringify(st.body));
  const s = new Stream(atoll, ID, "/process/web/stream");
  assert.equal((await s.nextTimed())!.ev.type, "process_info");
  let text = "";
  while (!text.includes("listening")) text += (await s.nextTimed())!.ev.data ?? "";
  assert.match(text, /booting/);

  assert.equal((await run(atoll, ID, `curl -s http://127.0.0.1:${port}/x`)).stdout, "hello from sandbox");
  assert.deepEqual(((await s.nextTimed())!.ev as any).data, "req /x\n");
  assert.equal((await run(atoll, ID, `curl -s http://127.0.0.1:${port}/y`)).stdout, "hello from sandbox");

  const logs = await agentCall(atoll, ID, "GET", "/process/web/logs");
  assert.equal(logs.body.stdout, "booting\nlistening\nreq /x\nreq /y\n");

  assert.ok((await taggedPids(atoll, ID, "ATOLL_PROCESS_ID=web")).length >= 3);
  const k = await agentCall(atoll, ID, "DELETE", "/process/web");
  assert.equal(k.status, 200);
  assert.deepEqual(await taggedPids(atoll, ID, "ATOLL_PROCESS_ID=web"), []);
  assert.equal((await s.until("exit")).at(-1).status, "killed");
  assert.equal((await agentCall(atoll, ID, "GET", "/process/web")).body.process.status, "killed");
  // No zombies left behind in the sandbox either.
  assert.equal((await run(atoll, ID, "ps -eo stat= | grep -c '^Z' || true")).stdout.trim(), "0");
});

test("statuses, exit codes, kill-all count, duplicate id", async () => {
  await agentCall(atoll, ID, "DELETE", "/process/kill-all"); // isolation from a failed earlier test
  const ok = await agentCall(atoll, ID, "POST", "/process/start", { command: "true" });
  const bad = await agentCall(atoll, ID, "POST", "/process/start", { command: "exit 9" });
  const wOk = await agentCall(atoll, ID, "GET", `/process/${ok.body.processId}/wait?timeoutMs=10000`);
  const wBad = await agentCall(atoll, ID, "GET", `/process/${bad.body.processId}/wait?timeoutMs=10000`);
  assert.deepEqual([wOk.body.process.status, wOk.body.process.exitCode], ["completed", 0]);
  assert.deepEqual([wBad.body.process.status, wBad.body.process.exitCode], ["failed", 9]);
  for (const id of ["k1", "k2"]) await agentCall(atoll, ID, "POST", "/process/start", { command: "sleep 100", processId: id });
  const dup = await agentCall(atoll, ID, "POST", "/process/start", { command: "true", processId: "k1" });
  assert.deepEqual([dup.status, dup.body.code], [409, "PROCESS_EXISTS"]);
  const all = await agentCall(atoll, ID, "DELETE", "/process/kill-all");
  assert.equal(all.body.cleanedCount, 2);
});
