// User commands must not see Atoll's internal settings (ATOLL_* of the agent's environment), and
// must run with a raised oom_score_adj so the OOM killer picks them before the agent.
// The bundled agent as a real process (exec, background processes, session shells) and the
// in-process agent with a real JS executor (interpreter contexts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { exec, get, post, startAgent, type Agent } from "./exec-harness.js";

// What a driver and entry.sh put into the agent's environment, plus agent tuning.
const INTERNAL = { ATOLL_STARTUP: "sleep 1", ATOLL_AGENT_NODE: "/opt/atoll/bin/node", ATOLL_WORKSPACE: "/nonexistent", ATOLL_KILL_GRACE_MS: "400", ATOLL_AGENT_X: "1" };
const atollNames = (envText: string) =>
  envText
    .split("\n")
    .map((l) => l.split("=")[0]!)
    .filter((k) => k.startsWith("ATOLL_"))
    .sort();

const ownAdj = Number(fs.readFileSync("/proc/self/oom_score_adj", "utf8"));
const expectedAdj = Math.min(1000, ownAdj + 500);

let agent: Agent;
before(async () => {
  agent = await startAgent(INTERNAL);
});
after(async () => {
  await agent?.stop();
});

describe("no internal ATOLL_* variables in user commands", () => {
  test("exec (default and created session, per-command env): only ATOLL_EXEC_ID", async () => {
    const r = await exec(agent.url, "env");
    assert.equal(r.exitCode, 0);
    assert.deepEqual(atollNames(r.stdout), ["ATOLL_EXEC_ID"]);
    await post(agent.url, "/api/session/create", { id: "envs", env: { MINE: "1" } });
    const r2 = await exec(agent.url, "env", { sessionId: "envs", env: { ALSO: "2" } });
    assert.deepEqual(atollNames(r2.stdout), ["ATOLL_EXEC_ID"]);
    assert.match(r2.stdout, /^MINE=1$/m);
    assert.match(r2.stdout, /^ALSO=2$/m);
    // PATH and friends still come from the agent.
    assert.match(r2.stdout, /^PATH=/m);
  });

  test("background process: only ATOLL_PROCESS_ID and ATOLL_PROCESS_KEY", async () => {
    const s = await post(agent.url, "/api/process/start", { command: "env" });
    await get(agent.url, `/api/process/${s.body.processId}/wait?timeoutMs=10000`);
    const logs = (await get(agent.url, `/api/process/${s.body.processId}/logs`)).body;
    assert.deepEqual(atollNames(logs.stdout), ["ATOLL_PROCESS_ID", "ATOLL_PROCESS_KEY"]);
  });

  test("the agent still applies its own settings (ATOLL_WORKDIR sets the session cwd)", async () => {
    const r = await exec(agent.url, "pwd");
    assert.equal(r.stdout.trim(), fs.realpathSync(agent.workdir));
  });
});

describe("oom_score_adj of user processes", () => {
  test(`session shells, their children and background processes run at ${expectedAdj} (agent: ${ownAdj})`, async () => {
    assert.equal(Number(fs.readFileSync(`/proc/${agent.pid}/oom_score_adj`, "utf8")), ownAdj, "the agent keeps its own value");
    const r = await exec(agent.url, 'cat /proc/self/oom_score_adj; cat "/proc/$$/oom_score_adj"');
    assert.deepEqual(r.stdout.trim().split("\n").map(Number), [expectedAdj, expectedAdj]);
    const s = await post(agent.url, "/api/process/start", { command: "cat /proc/self/oom_score_adj; (cat /proc/self/oom_score_adj)" });
    await get(agent.url, `/api/process/${s.body.processId}/wait?timeoutMs=10000`);
    const logs = (await get(agent.url, `/api/process/${s.body.processId}/logs`)).body.stdout as string;
    assert.deepEqual(logs.trim().split("\n").map(Number), [expectedAdj, expectedAdj]);
  });
});
