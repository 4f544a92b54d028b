// Lifecycle against real sandboxes: sleep after idle (files kept, memory cgroup gone), wake on
// demand, keepAlive, open streams hold a sandbox awake, pause/resume, snapshot → fork, and the
// control plane restarting (SIGTERM and kill -9) during traffic: sandboxes adopted, files intact.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { startAtoll, exec, hostResources, memoryCgroupDir, waitFor, type Atoll } from "./harness.js";

let atoll: Atoll;
const small = { limits: { memoryMiB: 256 } };
before(async () => {
  atoll = await startAtoll({ poolSize: 0, env: { ATOLL_IDLE_CHECK_MS: "200" } });
});
after(async () => {
  await atoll?.stop();
});

const status = async (id: string) => (await atoll.json("GET", `/v1/sandboxes/${id}`)).body.status as string;

test("idle sandbox sleeps after sleepAfter (files kept, memory freed) and wakes on the next call; keepAlive never sleeps", { timeout: 120_000 }, async () => {
  assert.equal((await atoll.json("PUT", "/v1/sandboxes/lc-keep", { ...small, sleepAfter: "2s", keepAlive: true })).status, 201);
  assert.equal((await atoll.json("PUT", "/v1/sandboxes/lc-sleep", { ...small, sleepAfter: "2s" })).status, 201);
  assert.equal((await exec(atoll, "lc-sleep", "echo kept > /workspace/keep.txt")).exitCode, 0);
  // agent state that must survive sleep: a named session and env set through /api/env
  assert.equal((await atoll.json("POST", "/v1/sandboxes/lc-sleep/api/session/create", { id: "work", cwd: "/tmp", env: { S_VAR: "in-session" } })).status, 200);
  assert.equal((await atoll.json("POST", "/v1/sandboxes/lc-sleep/api/env", { envVars: { TOP_VAR: "top" } })).status, 200);
  const res = await hostResources(atoll.dataDir, "lc-sleep");
  const memcg = memoryCgroupDir(res.cgroup);
  assert.ok(existsSync(memcg), `memory cgroup ${memcg} should exist while running`);

  const t0 = Date.now();
  await waitFor("lc-sleep to sleep", async () => (await status("lc-sleep")) === "sleeping", 10_000, 100);
  const sleptAfter = Date.now() - t0;
  assert.ok(sleptAfter >= 1500, `slept too early: ${sleptAfter} ms`);
  assert.ok(!existsSync(memcg), "memory cgroup should be gone while asleep");
  // lc-keep has been idle longer than lc-sleep, yet it is still running
  assert.equal(await status("lc-keep"), "running");

  const w0 = performance.now();
  const r = await exec(atoll, "lc-sleep", "cat /workspace/keep.txt");
  const wakeMs = performance.now() - w0;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.stdout, "kept\n");
  assert.equal(await status("lc-sleep"), "running");
  const s = await exec(atoll, "lc-sleep", "pwd; echo $S_VAR", { sessionId: "work" });
  assert.equal(s.stdout, "/tmp\nin-session\n", JSON.stringify(s.body));
  assert.equal((await exec(atoll, "lc-sleep", "echo $TOP_VAR")).stdout, "top\n");
  console.log(`# wake + exec after sleep: ${wakeMs.toFixed(1)} ms`);
});

test("an open stream keeps the sandbox awake past sleepAfter", { timeout: 120_000 }, async () => {
  await atoll.json("PUT", "/v1/sandboxes/lc-sleep", { sleepAfter: "2s" });
  const res = await atoll.api("/v1/sandboxes/lc-sleep/api/execute/stream", { method: "POST", json: { command: "sleep 3.5; echo still-here" } });
  const text = await res.text();
  assert.match(text, /"data":"still-here\\n"/);
  assert.match(text, /"type":"complete"/);
  assert.doesNotMatch(text, /"exitCode":(?!0)\d+/);
  assert.equal(await status("lc-sleep"), "running");
});

test("pause freezes processes (calls get 409 SANDBOX_PAUSED); resume continues them", { timeout: 120_000 }, async () => {
  const start = await atoll.json("POST", "/v1/sandboxes/lc-keep/api/process/start", {
    command: "i=0; while true; do i=$((i+1)); echo $i > /workspace/counter; sleep 0.1; done",
  });
  assert.equal(start.status, 200, JSON.stringify(start.body));
  const read = async () => Number((await exec(atoll, "lc-keep", "cat /workspace/counter")).stdout);
  await waitFor("the counter to run", async () => (await read()) >= 3, 10_000);
  const res = await hostResources(atoll.dataDir, "lc-keep");
  const counterOnHost = `${res.rootfs}/workspace/counter`;
  const { readFileSync } = await import("node:fs");
  const hostRead = () => Number(readFileSync(counterOnHost, "utf8"));

  assert.equal((await atoll.json("POST", "/v1/sandboxes/lc-keep/pause")).body.status, "paused");
  const during = await exec(atoll, "lc-keep", "true");
  assert.equal(during.status, 409);
  assert.equal(during.body.code, "SANDBOX_PAUSED");
  const c1 = hostRead();
  await new Promise((r) => setTimeout(r, 1000)); // a measurement window, not synchronisation
  const c2 = hostRead();
  assert.equal(c2, c1, "the counter moved while paused");

  assert.equal((await atoll.json("POST", "/v1/sandboxes/lc-keep/resume")).body.status, "running");
  await waitFor("the counter to continue", async () => (await read()) > c2 + 3, 10_000);
  await atoll.json("POST", "/v1/sandboxes/lc-keep/api/process/kill-all", {});
});

test("snapshot → fork: the fork starts with the files, then both evolve independently", { timeout: 120_000 }, async () => {
  assert.equal((await exec(atoll, "lc-sleep", "echo from-a > /workspace/f.txt")).exitCode, 0);
  const snap = await atoll.json("POST", "/v1/sandboxes/lc-sleep/snapshots", { name: "lc-snap" });
  assert.equal(snap.status, 201, JSON.stringify(snap.body));
  assert.equal(snap.body.sandboxId, "lc-sleep");
  assert.ok(snap.body.sizeBytes > 0);
  assert.equal((await atoll.json("POST", "/v1/sandboxes/lc-sleep/snapshots", { name: "lc-snap" })).body.code, "SNAPSHOT_EXISTS");
  const list = await atoll.json("GET", "/v1/snapshots");
  assert.deepEqual(list.body.snapshots.map((s: any) => s.name), ["lc-snap"]);

  const fork = await atoll.json("PUT", "/v1/sandboxes/lc-fork", { ...small, fromSnapshot: "lc-snap" });
  assert.equal(fork.status, 201, JSON.stringify(fork.body));
  assert.equal((await exec(atoll, "lc-fork", "cat /workspace/f.txt")).stdout, "from-a\n");
  await exec(atoll, "lc-fork", "echo from-fork > /workspace/f.txt; touch /workspace/only-fork");
  await exec(atoll, "lc-sleep", "touch /workspace/only-a");
  assert.equal((await exec(atoll, "lc-sleep", "cat /workspace/f.txt; ls /workspace")).stdout.includes("only-fork"), false);
  assert.equal((await exec(atoll, "lc-sleep", "cat /workspace/f.txt")).stdout, "from-a\n");
  assert.equal((await exec(atoll, "lc-fork", "test -e /workspace/only-a; echo $?")).stdout, "1\n");
  assert.equal((await exec(atoll, "lc-fork", "cat /workspace/f.txt")).stdout, "from-fork\n");

  assert.equal((await atoll.json("DELETE", "/v1/snapshots/lc-snap")).status, 200);
  assert.deepEqual((await atoll.json("GET", "/v1/snapshots")).body.snapshots, []);
  assert.equal(existsSync(`${atoll.dataDir}/snapshots/lc-snap`), false);
  // the fork does not depend on the deleted snapshot
  assert.equal((await exec(atoll, "lc-fork", "cat /workspace/f.txt")).stdout, "from-fork\n");
  assert.equal((await atoll.json("DELETE", "/v1/sandboxes/lc-fork")).status, 200);
});

test("control plane restart and kill -9 during traffic: sandboxes adopted with processes and files intact", { timeout: 120_000 }, async () => {
  await atoll.json("PATCH", "/v1/sandboxes/lc-keep", { keepAlive: true });
  await exec(atoll, "lc-keep", "echo survivor > /workspace/adopt.txt");
  const bg = await atoll.json("POST", "/v1/sandboxes/lc-keep/api/process/start", { command: "sleep 1000" });
  assert.equal(bg.status, 200, JSON.stringify(bg.body));
  const pidBefore = (await exec(atoll, "lc-keep", "pgrep -f 'sleep 1000' | head -1")).stdout.trim();
  assert.match(pidBefore, /^\d+$/);

  for (const how of ["restart", "kill9"] as const) {
    // Traffic: exec("true") in a loop while the control plane goes away and comes back.
    let running = true;
    const seen: Record<string, number> = {};
    const traffic = (async () => {
      while (running) {
        try {
          const r = await exec(atoll, "lc-keep", "true");
          seen[r.status] = (seen[r.status] ?? 0) + 1;
        } catch {
          seen.refused = (seen.refused ?? 0) + 1;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor("some traffic", () => (seen[200] ?? 0) >= 5, 10_000, 10);
    if (how === "kill9") await atoll.kill9();
    await atoll.restart();
    const okBefore = seen[200] ?? 0;
    await waitFor("traffic after the restart", () => (seen[200] ?? 0) >= okBefore + 5, 15_000, 10);
    running = false;
    await traffic;
    const bad = Object.keys(seen).filter((k) => k !== "200" && k !== "refused");
    assert.deepEqual(bad, [], `${how}: unexpected statuses ${JSON.stringify(seen)}`);

    assert.equal(await status("lc-keep"), "running");
    assert.equal((await exec(atoll, "lc-keep", "cat /workspace/adopt.txt")).stdout, "survivor\n");
    const pidAfter = (await exec(atoll, "lc-keep", "pgrep -f 'sleep 1000' | head -1")).stdout.trim();
    assert.equal(pidAfter, pidBefore, `${how}: the sandbox was restarted instead of adopted`);
    assert.equal((await exec(atoll, "lc-sleep", "cat /workspace/keep.txt")).stdout, "kept\n");
  }
});
