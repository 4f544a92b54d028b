// oci driver limits against real sandboxes: memory hog OOM-killed inside its sandbox, fork bomb
// capped by pids, disk writes past diskMiB fail with ENOSPC; the host and a neighbour keep answering.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { agentVersion, disposeDriver, newDriver, sh, spec } from "./driver-helpers.js";
import type { OciDriver } from "../../packages/server/src/drivers/oci/index.js";
import type { SandboxEndpoint } from "../../packages/server/src/drivers/types.js";

describe("oci driver limits", () => {
  let d: OciDriver;
  let neighbour: SandboxEndpoint;
  before(async () => {
    d = newDriver();
    await d.init();
    neighbour = (await d.start(spec("lim-n"))).endpoint!;
  });
  after(async () => {
    await disposeDriver(d);
  });

  test("limits land in the cgroup (memory = memory+swap, pids, cpu quota)", async () => {
    await d.start(spec("lim-c", { limits: { cpu: 0.5, memoryMiB: 200, pids: 77, diskMiB: 100 } }));
    const cg = d.resources("lim-c").cgroup;
    if (statSync("/sys/fs/cgroup/memory", { throwIfNoEntry: false })) {
      const rd = (f: string) => readFileSync(`/sys/fs/cgroup/${f}`, "utf8").trim();
      assert.equal(rd(`memory${cg}/memory.limit_in_bytes`), String(200 * 1024 * 1024));
      assert.equal(rd(`memory${cg}/memory.memsw.limit_in_bytes`), String(200 * 1024 * 1024));
      assert.equal(rd(`pids${cg}/pids.max`), "77");
      assert.equal(rd(`cpu${cg}/cpu.cfs_quota_us`), "50000");
      assert.equal(rd(`cpu${cg}/cpu.cfs_period_us`), "100000");
    } else {
      const rd = (f: string) => readFileSync(`/sys/fs/cgroup${cg}/${f}`, "utf8").trim();
      assert.equal(rd("memory.max"), String(200 * 1024 * 1024));
      assert.equal(rd("memory.swap.max"), "0");
      assert.equal(rd("pids.max"), "77");
      assert.equal(rd("cpu.max"), "50000 100000");
    }
    await d.destroy("lim-c");
  });

  test("a memory hog is OOM-killed inside its sandbox; agent, neighbour and host keep answering", async () => {
    const s = await d.start(spec("lim-mem", { limits: { cpu: 1, memoryMiB: 128, pids: 512, diskMiB: 256 } }));
    const r = await sh(d, "lim-mem", "python3 -c 'a = bytearray(600 * 1024 * 1024); print(\"survived\")'; echo exit=$?", 60_000);
    assert.match(r.out, /exit=137/, r.out);
    assert.ok(!r.out.includes("survived"));
    // The OOM killer may pick the agent too (same oom_score_adj as user processes); entry.sh restarts it.
    assert.equal(await answersWithin(s.endpoint!, 10_000), true, "agent answers (again)");
    assert.equal((await agentVersion(neighbour)).status, 200, "neighbour still answers");
    assert.equal((await d.inspect("lim-mem")).state, "running");
    await d.destroy("lim-mem");
  });

  test("a fork bomb is capped by the pids limit; agent, neighbour and host keep answering", async () => {
    const s = await d.start(spec("lim-pids", { limits: { cpu: 1, memoryMiB: 512, pids: 64, diskMiB: 256 } }));
    const pidsFile = statSync("/sys/fs/cgroup/pids", { throwIfNoEntry: false })
      ? `/sys/fs/cgroup/pids${d.resources("lim-pids").cgroup}/pids.current`
      : `/sys/fs/cgroup${d.resources("lim-pids").cgroup}/pids.current`;
    // a classic fork bomb, left running for 3 s; stdout closed so the exec returns when bash gives up
    const bomb = d.execInside("lim-pids", ["/bin/bash", "-c", "exec >/dev/null 2>&1; timeout -s KILL 3 bash -c ':(){ :|:& };:'; echo done"], 60_000);
    let peak = 0;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      peak = Math.max(peak, Number(readFileSync(pidsFile, "utf8")));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(peak > 20 && peak <= 64, `pids in the sandbox peaked at ${peak}, limit 64`);
    assert.equal((await agentVersion(neighbour)).status, 200, "neighbour still answers during the bomb");
    await bomb;
    assert.equal((await agentVersion(neighbour)).status, 200, "neighbour still answers");
    void s;
    const t = Date.now();
    await d.stop("lim-pids"); // kills the whole tree
    assert.ok(Date.now() - t < 20_000);
    await d.destroy("lim-pids");
  });

  test("writing past diskMiB fails with ENOSPC inside; the host disk is untouched", async () => {
    await d.start(spec("lim-disk", { limits: { cpu: 1, memoryMiB: 512, pids: 512, diskMiB: 64 } }));
    const res = d.resources("lim-disk");
    const r = await sh(d, "lim-disk", "dd if=/dev/zero of=/workspace/big bs=1M count=200 2>&1; echo exit=$?", 60_000);
    assert.match(r.out, /No space left on device/, r.out);
    assert.doesNotMatch(r.out, /exit=0/);
    const img = statSync(res.disk);
    assert.ok(img.blocks * 512 <= 64 * 1024 * 1024 + 4096, `disk image uses at most its size (${img.blocks * 512})`);
    const ok = await sh(d, "lim-disk", "rm /workspace/big && echo small > /workspace/s && cat /workspace/s");
    assert.equal(ok.out, "small\n", "writes work again after freeing space");
    await d.destroy("lim-disk");
  });
});

async function answersWithin(ep: SandboxEndpoint, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await agentVersion(ep).then((v) => v.status === 200).catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
