// A background process printing 200 MiB must not grow the agent: its logs are a bounded ring
// (ATOLL_PROCESS_LOG_BYTES, 1 MiB default), and stream readers that stall or read slowly catch up
// from the ring instead of making the agent buffer for them. Measured: +31-35 MiB peak.
// The test fails when the ring is effectively unbounded: ATOLL_TEST_RING_BYTES=4294967296 runs it
// with a 4 GiB ring (measured: +680 MiB, assertion fails).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SSE, exec, get, memoryOf, post, startAgent, until, type Agent } from "./exec-harness.js";

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
const RING = 1 * MiB; // the default ATOLL_PROCESS_LOG_BYTES
/** Documented bound: peak RSS growth of the agent while the process prints TOTAL bytes. */
const BOUND = 64 * MiB;

let agent: Agent;
before(async () => {
  agent = await startAgent(process.env.ATOLL_TEST_RING_BYTES ? { ATOLL_PROCESS_LOG_BYTES: process.env.ATOLL_TEST_RING_BYTES } : {});
});
after(async () => {
  await agent?.stop();
});

test("200 MiB from a background process: agent RSS bounded, logs truncated, stalled and slow readers", { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-procmem-"));
  const go = path.join(dir, "go");
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;
  const readers: SSE[] = [];
  try {
    await exec(agent.url, "true"); // warm the default session and the exec path
    // The process waits for the readers to attach (file `go`), then prints TOTAL bytes of 'a'.
    const command = `until [ -e '${go}' ]; do sleep 0.01; done; head -c ${TOTAL} /dev/zero | tr '\\0' 'a'`;
    const start = await post(agent.url, "/api/process/start", { command, timeoutMs: 100_000 });
    assert.equal(start.status, 200);
    const id = start.body.processId as string;
    // One reader never reads (its socket fills up), one reads slowly (paused most of the time).
    const stalled = new SSE(`${agent.url}/api/process/${id}/stream`, "GET", undefined, { keep: false });
    const slow = new SSE(`${agent.url}/api/process/${id}/stream`, "GET", undefined, { keep: false });
    readers.push(stalled, slow);
    assert.equal((await stalled.next()).type, "process_info");
    assert.equal((await slow.next()).type, "process_info");
    stalled.res!.pause();
    const before = memoryOf(agent.pid).rss;
    peak = before;
    sampler = setInterval(() => {
      try {
        peak = Math.max(peak, memoryOf(agent.pid).rss);
      } catch {
        /* agent gone: the test fails below */
      }
    }, 20);
    const slowTimer = setInterval(() => (slow.res!.isPaused() ? slow.res!.resume() : slow.res!.pause()), 50);
    fs.writeFileSync(go, "");
    let p: any;
    try {
      p = (await get(agent.url, `/api/process/${id}/wait?timeoutMs=100000`)).body.process;
    } finally {
      clearInterval(slowTimer);
    }
    clearInterval(sampler);
    peak = Math.max(peak, memoryOf(agent.pid).rss);
    assert.deepEqual([p.status, p.exitCode], ["completed", 0]);
    const grew = peak - before;
    console.log(`# 200 MiB background process: agent RSS before ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (+${(grew / MiB).toFixed(1)} MiB)`);
    assert.ok(grew < BOUND, `agent RSS grew ${(grew / MiB).toFixed(1)} MiB (bound ${BOUND / MiB} MiB)`);

    const logs = (await get(agent.url, `/api/process/${id}/logs`)).body;
    assert.equal(logs.truncated, true);
    assert.equal(Buffer.byteLength(logs.stdout), RING);
    assert.match(logs.stdout, /^a+$/);
    assert.deepEqual(logs.droppedBytes, { stdout: TOTAL - RING, stderr: 0 });

    // Both readers end with an exit event; what they missed is reported, never silently lost.
    slow.res!.resume();
    stalled.res!.resume();
    for (const r of readers) {
      const evs = await r.until("exit", 60_000);
      const dropped = evs.filter((e) => e.type === "truncated").reduce((n, e) => n + e.droppedBytes, 0);
      assert.equal(r.dataChars + dropped, TOTAL, `received ${r.dataChars} + reported dropped ${dropped}`);
    }
    const stalledDropped = TOTAL - stalled.dataChars;
    assert.ok(stalledDropped > TOTAL - 64 * MiB, `the stalled reader got ${stalled.dataChars} bytes`);
  } finally {
    clearInterval(sampler);
    for (const r of readers) r.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
