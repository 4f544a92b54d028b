// oci driver warm pool (claim → running sandbox at once, refill, cleanup) and snapshots/forks.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { agentVersion, disposeDriver, leftovers, newDriver, sh, spec } from "./driver-helpers.js";
import type { OciDriver } from "../../packages/server/src/drivers/oci/index.js";
import { alive } from "../../packages/server/src/drivers/oci/pool.js";

describe("oci driver pool", () => {
  let d: OciDriver;
  before(async () => {
    d = newDriver({ poolSize: 1 });
    await d.init();
    await d.pool.waitReady(1, 60_000);
  });
  after(async () => {
    await disposeDriver(d);
  });

  test("a matching start claims a pre-started sandbox and the pool refills", async () => {
    const t = performance.now();
    const s = await d.start(spec("pool-a"));
    const ms = performance.now() - t;
    assert.equal(s.state, "running");
    assert.ok(ms < 250, `claim took ${ms.toFixed(1)} ms (a cold start takes 250+ ms)`);
    assert.equal((await agentVersion(s.endpoint!)).status, 200);
    assert.equal(d.resources("pool-a").name.startsWith("_pool-"), true, "served from the pool");
    assert.deepEqual(await d.list(), ["pool-a"]);
    assert.equal((await d.inspect("pool-a")).state, "running");
    await d.pool.waitReady(1, 60_000);
    // a second driver over the same data dir resolves the claimed id too (persisted mapping)
    const d2 = newDriver({ dataDir: d.cfg.dataDir });
    assert.deepEqual((await d2.inspect("pool-a")).endpoint, s.endpoint);
    await d2.close();
  });

  test("a non-matching spec starts its own sandbox", async () => {
    const s = await d.start(spec("pool-b", { env: { FOO: "bar" } }));
    assert.equal(d.resources("pool-b").name, "pool-b");
    const r = await sh(d, "pool-b", "echo $FOO");
    assert.equal(r.out, "bar\n");
    assert.equal((await agentVersion(s.endpoint!)).status, 200);
  });

  test("a claimed sandbox stops, restarts with its files and is destroyed without leaks", async () => {
    await sh(d, "pool-a", "echo mine > /workspace/m");
    await d.stop("pool-a");
    await d.start(spec("pool-a"));
    assert.equal((await sh(d, "pool-a", "cat /workspace/m")).out, "mine\n");
    const res = d.resources("pool-a");
    await d.destroy("pool-a");
    assert.deepEqual(leftovers(res), []);
    assert.equal(existsSync(path.join(d.cfg.sandboxesDir, "pool-a")), false, "alias removed");
  });

  test("snapshot copies the writable layer; fromSnapshotDir forks it", async () => {
    await sh(d, "pool-b", "mkdir -p /workspace/proj && echo v1 > /workspace/proj/f && rm -f /etc/motd");
    const snap = mkdtempSync(path.join(os.tmpdir(), "atoll-snap-"));
    try {
      const { sizeBytes } = await d.snapshot("pool-b", path.join(snap, "s1"));
      assert.ok(sizeBytes > 0);
      assert.equal((await d.inspect("pool-b")).state, "running", "running again after the freeze");
      await d.start(spec("pool-fork", { fromSnapshotDir: path.join(snap, "s1") }));
      const r = await sh(d, "pool-fork", "cat /workspace/proj/f; test -e /etc/motd && echo has-motd || echo no-motd");
      assert.equal(r.out, "v1\nno-motd\n", "files and deletions (whiteouts) carried over");
      await sh(d, "pool-fork", "echo v2 > /workspace/proj/f");
      assert.equal((await sh(d, "pool-b", "cat /workspace/proj/f")).out, "v1\n", "fork is independent");
      // snapshot of a stopped sandbox works too
      await d.stop("pool-fork");
      await d.snapshot("pool-fork", path.join(snap, "s2"));
      assert.ok(readdirSync(path.join(snap, "s2", "workspace")).includes("proj"));
    } finally {
      rmSync(snap, { recursive: true, force: true });
    }
  });

  test("a pool entry that died while waiting is skipped and cleaned up", async () => {
    await d.pool.waitReady(1, 60_000);
    const entry = readdirSync(d.cfg.sandboxesDir).find((n) => n.startsWith("_pool-"))!;
    const rec = d.layout.read(entry)!;
    process.kill(rec.pid!, "SIGKILL"); // tini = the sandbox's pid 1: the whole sandbox dies
    const gone = Date.now() + 5000;
    while (alive(rec.pid) && Date.now() < gone) await new Promise((r) => setTimeout(r, 10));
    const s = await d.start(spec("pool-after-death"));
    assert.equal(d.resources("pool-after-death").name, "pool-after-death", "started cold, not from the dead entry");
    assert.equal((await agentVersion(s.endpoint!)).status, 200);
    await d.destroy("pool-after-death");
    const end = Date.now() + 10_000;
    while (existsSync(path.join(d.cfg.sandboxesDir, entry)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(path.join(d.cfg.sandboxesDir, entry)), false, "dead entry removed");
  });

  test("close destroys unclaimed pool entries", async () => {
    await d.pool.waitReady(1, 60_000);
    const before = readdirSync(d.cfg.sandboxesDir).filter((n) => n.startsWith("_pool-"));
    await d.close();
    const after = readdirSync(d.cfg.sandboxesDir).filter((n) => n.startsWith("_pool-"));
    assert.ok(after.length < before.length, `${before} -> ${after}`);
  });
});
