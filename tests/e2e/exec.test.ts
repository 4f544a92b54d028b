// Exec semantics in a real sandbox through the control plane (oci driver, crun, the agent's bash
// sessions): results, exit codes, persistence, streaming timing, timeouts, concurrency, abort.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createSandbox, startAtoll, type Atoll } from "./harness.js";
import { Stream, agentCall, run, taggedPids } from "./exec-helpers.js";

const ID = "e2e-exec";
let atoll: Atoll;

before(async () => {
  atoll = await startAtoll();
  await createSandbox(atoll, ID);
});
after(async () => {
  await atoll?.stop();
});

describe("exec in a real sandbox", () => {
  test("echo, exit codes, 127 and stdin from /dev/null", async () => {
    const r = await run(atoll, ID, "echo hi; echo err >&2");
    assert.deepEqual([r.success, r.exitCode, r.stdout, r.stderr, r.sessionId], [true, 0, "hi\n", "err\n", "default"]);
    const e = await run(atoll, ID, "exit 1");
    assert.deepEqual([e.success, e.exitCode], [false, 1]);
    const nf = await run(atoll, ID, "no-such-cmd-atoll");
    assert.equal(nf.exitCode, 127);
    assert.match(nf.stderr, /not found/);
    assert.equal((await run(atoll, ID, "cat; echo rc=$?")).stdout, "rc=0\n");
  });

  test("cd and export persist in the session; cwd starts at /workspace", async () => {
    assert.equal((await run(atoll, ID, "pwd")).stdout, "/workspace\n");
    await run(atoll, ID, "cd /tmp && export X=1");
    assert.equal((await run(atoll, ID, "pwd; echo $X")).stdout, "/tmp\n1\n");
    await run(atoll, ID, "cd /workspace");
  });

  test("per-command env and cwd; 10 000 lines", async () => {
    const v = `a 'b' "c" $d\nline`;
    assert.equal((await run(atoll, ID, 'printf "%s|" "$V"; pwd', { env: { V: v }, cwd: "/etc" })).stdout, `${v}|/etc\n`);
    const lines = (await run(atoll, ID, "seq 1 10000")).stdout.trimEnd().split("\n");
    assert.equal(lines.length, 10000);
    assert.equal(lines[9999], "10000");
  });

  test("streaming is incremental through the control plane", async () => {
    const s = new Stream(atoll, ID, "/execute/stream", { command: "echo first; sleep 1.5; echo second" });
    const evs: any[] = [];
    let firstAt = 0;
    let secondAt = 0;
    for (;;) {
      const t = await s.nextTimed();
      assert.ok(t, "stream ended early");
      evs.push(t.ev);
      if (t.ev.type === "stdout" && t.ev.data.includes("first")) firstAt = t.at;
      if (t.ev.type === "stdout" && t.ev.data.includes("second")) secondAt = t.at;
      if (t.ev.type === "complete") break;
    }
    assert.equal(evs[0].type, "start");
    assert.equal(evs.at(-1).exitCode, 0);
    assert.ok(secondAt - firstAt >= 1200, `first line arrived ${secondAt - firstAt} ms before the second`);
  });

  test("timeoutMs kills the command and its children", async () => {
    const tag = `ATOLL_T=to-${Date.now()}`;
    const r = await run(atoll, ID, `export ${tag}; sleep 60 & sleep 60; echo after`, { timeoutMs: 400 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, 124);
    assert.doesNotMatch(r.stdout, /after/);
    assert.deepEqual(await taggedPids(atoll, ID, tag), []);
    assert.equal((await run(atoll, ID, "echo alive")).stdout, "alive\n");
  });

  test("10 concurrent execs on one session never interleave", async () => {
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => run(atoll, ID, `for j in $(seq 1 100); do echo c${i}-$j; done`)));
    rs.forEach((r, i) => {
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 100);
      assert.ok(lines.every((l: string, j: number) => l === `c${i}-${j + 1}`));
    });
  });

  test("aborting a stream kills the command", async () => {
    const tag = `ATOLL_T=ab-${Date.now()}`;
    const s = new Stream(atoll, ID, "/execute/stream", { command: `export ${tag}; echo go; sleep 60` });
    await s.until("stdout");
    s.close();
    const deadline = Date.now() + 5000;
    let left = await taggedPids(atoll, ID, tag);
    while (left.length && Date.now() < deadline) left = await taggedPids(atoll, ID, tag);
    assert.deepEqual(left, []);
  });

  test("bad input → coded 4xx through the control plane", async () => {
    const r = await agentCall(atoll, ID, "POST", "/execute", { command: "" });
    assert.equal(r.status, 400);
    assert.equal(r.body.code, "INVALID_COMMAND");
  });
});
