// oci driver lifecycle against real crun, netns and the agent: start, stop/start keeps files,
// pause/resume freezes, destroy leaves nothing behind, a second driver instance adopts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { AtollError } from "@atoll/protocol";
import { chains } from "../../packages/server/src/drivers/oci/host.js";
import { BRIDGE, SUBNET, agentVersion, disposeDriver, leftovers, newDriver, runtimeLeftovers, sh, spec } from "./driver-helpers.js";
import type { OciDriver } from "../../packages/server/src/drivers/oci/index.js";

describe("oci driver lifecycle", () => {
  let d: OciDriver;
  before(async () => {
    d = newDriver();
    await d.init();
  });
  after(async () => {
    await disposeDriver(d);
  });

  test("start answers /api/version; inspect/list report it; start is idempotent", async () => {
    const s = await d.start(spec("life-a"));
    assert.equal(s.state, "running");
    assert.ok(s.endpoint?.host.startsWith((SUBNET ?? "10.203.0.0/16").split(".").slice(0, 2).join(".") + "."), s.endpoint?.host);
    const v = await agentVersion(s.endpoint!);
    assert.equal(v.status, 200);
    assert.equal(v.body.success, true);
    const i = await d.inspect("life-a");
    assert.equal(i.state, "running");
    assert.deepEqual(i.endpoint, s.endpoint);
    assert.ok((i.pid ?? 0) > 1);
    assert.deepEqual(await d.list(), ["life-a"]);
    const again = await d.start(spec("life-a"));
    assert.deepEqual(again.endpoint, s.endpoint);
    assert.equal((await d.inspect("nope")).state, "missing");
    if (d.agentNode) {
      const ps = await sh(d, "life-a", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '");
      assert.match(ps.out, /\/opt\/atoll\/bin\/node \/opt\/atoll\/agent\/agent\.mjs/, "agent runs on the host's node");
    }
    const st = await d.stats("life-a");
    assert.ok(st, "stats of a running sandbox");
    assert.ok(st.memoryBytes > 1 << 20 && st.memoryBytes < st.memoryLimitBytes, JSON.stringify(st));
    assert.equal(st.memoryLimitBytes, 1024 * 1024 * 1024);
    assert.ok(st.pids >= 3 && st.pids < 512);
    assert.ok(st.diskTotalBytes > 1.5 * 2 ** 30 && st.diskUsedBytes > 0);
  });

  test("stop keeps files; start brings them back", async () => {
    const r = await sh(d, "life-a", "echo kept > /workspace/f.txt && echo etc > /root/r.txt");
    assert.equal(r.code, 0, r.out);
    await d.stop("life-a");
    assert.equal((await d.inspect("life-a")).state, "stopped");
    assert.equal(await d.stats("life-a"), undefined);
    const res = d.resources("life-a");
    assert.deepEqual(runtimeLeftovers(res), [], "stopped sandbox holds no runtime resources");
    const s = await d.start(spec("life-a"));
    assert.equal(s.state, "running");
    const back = await sh(d, "life-a", "cat /workspace/f.txt /root/r.txt");
    assert.equal(back.out, "kept\netc\n");
  });

  test("stop sends SIGTERM first: a server gets to flush within the grace period", async () => {
    // The server says it is ready once its TERM trap is installed; stopping before that would race.
    await sh(d, "life-a", `setsid sh -c 'trap "sleep 0.3; echo flushed > /workspace/flushed; exit 0" TERM; touch /workspace/trap-ready; while :; do sleep 0.05; done' >/dev/null 2>&1 &`);
    for (let i = 0; i < 200 && (await sh(d, "life-a", "test -f /workspace/trap-ready")).code !== 0; i++) await new Promise((r) => setTimeout(r, 25));
    await d.stop("life-a");
    await d.start(spec("life-a"));
    assert.equal((await sh(d, "life-a", "cat /workspace/flushed")).out, "flushed\n");
    await sh(d, "life-a", `setsid sh -c 'trap "" TERM; while :; do sleep 0.05; done' >/dev/null 2>&1 &`);
    const t = Date.now();
    await d.stop("life-a"); // a TERM-ignoring process is killed when the grace (1 s) ends
    assert.ok(Date.now() - t < 5000);
    assert.equal((await d.inspect("life-a")).state, "stopped");
    await d.start(spec("life-a"));
  });

  test("pause stops a counter, resume continues it", async () => {
    await sh(d, "life-a", "(i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.02; done) >/dev/null 2>&1 &");
    const read = async () => Number(await import("node:fs").then((fs) => fs.readFileSync(`${d.resources("life-a").rootfs}/tmp/count`, "utf8")));
    await waitFor(async () => (await read().catch(() => 0)) > 2);
    await d.pause("life-a");
    assert.equal((await d.inspect("life-a")).state, "paused");
    const a = await read();
    await new Promise((r) => setTimeout(r, 300)); // the counter would advance ~15 times if running
    const b = await read();
    assert.equal(b, a, `counter frozen while paused (${a} -> ${b})`);
    await d.resume("life-a");
    assert.equal((await d.inspect("life-a")).state, "running");
    await waitFor(async () => (await read()) > a + 2);
  });

  test("destroy leaves nothing behind", async () => {
    const res = d.resources("life-a");
    assert.ok(res.veth);
    await d.destroy("life-a");
    assert.deepEqual(leftovers(res), []);
    assert.equal((await d.inspect("life-a")).state, "missing");
    assert.deepEqual(await d.list(), []);
    await d.destroy("life-a"); // idempotent
  });

  test("a second driver instance adopts running sandboxes", async () => {
    const s = await d.start(spec("adopt-1"));
    const d2 = newDriver({ dataDir: d.cfg.dataDir });
    await d2.init();
    const i = await d2.inspect("adopt-1");
    assert.equal(i.state, "running");
    assert.deepEqual(i.endpoint, s.endpoint);
    assert.deepEqual(await d2.list(), ["adopt-1"]);
    const res = d2.resources("adopt-1");
    await d2.stop("adopt-1");
    assert.equal((await d.inspect("adopt-1")).state, "stopped");
    await d2.destroy("adopt-1");
    assert.deepEqual(leftovers(res), []);
    await d2.close();
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("condition not met in time");
}

describe("oci driver with runc", () => {
  test("start, exec, pause/resume, stop/start and destroy without leaks", async () => {
    const d = newDriver({ runtime: "runc" });
    try {
      await d.init();
      const s = await d.start(spec("runc-a"));
      assert.equal((await agentVersion(s.endpoint!)).status, 200);
      assert.match((await sh(d, "runc-a", "cat /proc/self/uid_map")).out, new RegExp(`0\\s+${d.resources("runc-a").rootUid}\\s+65536`));
      await d.pause("runc-a");
      assert.equal((await d.inspect("runc-a")).state, "paused");
      await d.resume("runc-a");
      await sh(d, "runc-a", "echo r > /workspace/r");
      await d.stop("runc-a");
      await d.start(spec("runc-a"));
      assert.equal((await sh(d, "runc-a", "cat /workspace/r")).out, "r\n");
      const res = d.resources("runc-a");
      await d.destroy("runc-a");
      assert.deepEqual(leftovers(res), []);
    } finally {
      await disposeDriver(d);
    }
  });
});

describe("oci driver settings and failures", () => {
  let d: OciDriver;
  before(async () => {
    d = newDriver();
    await d.init();
  });
  after(async () => {
    await disposeDriver(d);
  });

  test("a start that fails reports SANDBOX_START_FAILED with the runtime's output and leaks nothing", async () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), "atoll-badroot-"));
    mkdirSync(path.join(bad, "etc"));
    try {
      await assert.rejects(d.start(spec("bad-root", { template: "bad", rootfs: bad })), (e: unknown) => {
        assert.ok(e instanceof AtollError);
        assert.equal(e.code, "SANDBOX_START_FAILED");
        assert.match(e.message, /^Cannot start sandbox bad-root: /);
        assert.ok(String(e.context.stderr).length > 0, "runtime output attached");
        return true;
      });
      const res = d.resources("bad-root");
      assert.deepEqual(runtimeLeftovers(res), []);
      assert.equal((await d.inspect("bad-root")).state, "stopped");
      await d.destroy("bad-root");
      assert.deepEqual(leftovers(res), []);
    } finally {
      rmSync(bad, { recursive: true, force: true });
      rmSync(`${bad}.uid100000`, { recursive: true, force: true });
    }
  });

  test("bad ids and missing template roots are refused with codes", async () => {
    await assert.rejects(d.start(spec("../etc")), (e: unknown) => e instanceof AtollError && e.code === "INVALID_SANDBOX_ID");
    assert.equal((await d.inspect("../sandboxes")).state, "missing");
    await d.destroy("../x"); // no-op, never a path outside the data dir
    await assert.rejects(d.start(spec("tiny", { limits: { cpu: 1, memoryMiB: 1, pids: 512, diskMiB: 100 } })), (e: unknown) => e instanceof AtollError && e.code === "VALIDATION_FAILED");
    await assert.rejects(d.start(spec("nan", { limits: { cpu: NaN, memoryMiB: 256, pids: 512, diskMiB: 100 } })), (e: unknown) => e instanceof AtollError && e.code === "VALIDATION_FAILED");
    await assert.rejects(d.start(spec("no-root", { template: "gone", rootfs: "/nonexistent/rootfs" })), (e: unknown) => e instanceof AtollError && e.code === "TEMPLATE_NOT_FOUND");
    await d.destroy("no-root");
    assert.deepEqual(await d.list(), []);
  });

  test("egress=false adds a drop rule for the sandbox's address, removed on stop", async () => {
    const s = await d.start(spec("no-egress", { egress: false }));
    const egress = chains(BRIDGE).egress;
    const rules = () => execFileSync("iptables", ["-w", "-S", egress], { encoding: "utf8" });
    assert.ok(rules().includes(`-A ${egress} -s ${s.endpoint!.host}/32 -j DROP`));
    assert.equal((await agentVersion(s.endpoint!)).status, 200, "the host still reaches it");
    await d.stop("no-egress");
    assert.ok(!rules().includes(`${s.endpoint!.host}/32`));
    await d.destroy("no-egress");
  });

  test("a restart takes new env and limits; the disk grows and keeps its files", async () => {
    await d.start(spec("resize", { env: { X: "1" }, limits: { cpu: 1, memoryMiB: 256, pids: 128, diskMiB: 64 } }));
    await sh(d, "resize", "echo keep > /workspace/k");
    const size = async () => Number((await sh(d, "resize", "df -k --output=size /workspace | tail -1")).out.trim());
    assert.ok((await size()) < 70_000);
    await d.stop("resize");
    await d.start(spec("resize", { env: { X: "2" }, limits: { cpu: 1, memoryMiB: 256, pids: 128, diskMiB: 128 } }));
    assert.equal((await sh(d, "resize", "echo $X; cat /workspace/k")).out, "2\nkeep\n");
    assert.ok((await size()) > 100_000, "filesystem grew to ~128 MiB");
    await d.destroy("resize");
  });

  test("a sandbox recorded before per-sandbox uid ranges keeps its files and gets a range of its own", async () => {
    const limits = { cpu: 1, memoryMiB: 256, pids: 128, diskMiB: 64 };
    await d.start(spec("legacy", { limits }));
    assert.equal((await sh(d, "legacy", "echo old > /workspace/old.txt && chmod 600 /workspace/old.txt && echo ok")).out, "ok\n");
    await d.stop("legacy");
    const file = path.join(d.resources("legacy").dir, "state.json");
    // as older versions left the record: no rootUid, or root mapped to the storage range itself
    for (const legacy of [undefined, d.cfg.uidBase]) {
      const rec = JSON.parse(readFileSync(file, "utf8"));
      if (legacy === undefined) delete rec.rootUid;
      else rec.rootUid = legacy;
      writeFileSync(file, JSON.stringify(rec));
      await d.start(spec("legacy", { limits }));
      const rootUid = d.resources("legacy").rootUid!;
      assert.ok(rootUid >= d.cfg.sandboxUidStart, `a range of its own, got ${rootUid}`);
      assert.equal((await sh(d, "legacy", "head -1 /workspace/old.txt; stat -c %u /workspace/old.txt; echo new >> /workspace/old.txt")).out, "old\n0\n");
      await d.stop("legacy");
    }
    await d.start(spec("legacy", { limits }));
    assert.equal((await sh(d, "legacy", "cat /workspace/old.txt")).out, "old\nnew\nnew\n");
    await d.destroy("legacy");
  });
});
