// Attacker: code in a sandbox (root there) that freezes its own job cgroup — or an agent killed
// between freezing and thawing a job — so that SIGKILL stays pending on its tasks. Attack: outlive
// sleep and destroy, keeping the sandbox's disk, loop device and mounts on the host.
// Expected: the driver thaws and kills the whole cgroup tree on teardown; nothing is left.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { disposeDriver, leftovers, newDriver, sh, spec } from "../e2e/driver-helpers.js";
import type { OciDriver } from "../../packages/server/src/drivers/oci/index.js";

describe("a frozen cgroup does not outlive teardown", () => {
  let d: OciDriver;
  before(async () => {
    d = newDriver();
    await d.init();
  });
  after(async () => {
    await disposeDriver(d);
  });

  // The sandbox makes its own cgroup in the delegated freezer hierarchy, moves a sleeper in and freezes it.
  const freezeSleeper = async (id: string): Promise<void> => {
    // a detached shell moves itself into its own freezer cgroup and freezes itself (the exec returns at once)
    const r = await sh(
      d,
      id,
      "setsid sh -c 'fz=/sys/fs/cgroup/freezer; mkdir -p $fz/hide; echo $$ > $fz/hide/cgroup.procs; sleep 1000 & echo FROZEN > $fz/hide/freezer.state; wait' </dev/null >/dev/null 2>&1 & sleep 0.5; cat /sys/fs/cgroup/freezer/hide/freezer.state",
      20_000,
    );
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /FROZEN|FREEZING/);
  };

  test("stop (sleep) then destroy: the frozen sleeper is gone and nothing is left", async () => {
    await d.start(spec("frz-a"));
    await freezeSleeper("frz-a");
    const res = d.resources("frz-a");
    await d.stop("frz-a");
    await d.destroy("frz-a");
    assert.deepEqual(leftovers(res), []);
  });

  test("destroy of a running sandbox with a frozen job leaves nothing", async () => {
    await d.start(spec("frz-b"));
    await freezeSleeper("frz-b");
    const res = d.resources("frz-b");
    await d.destroy("frz-b");
    assert.deepEqual(leftovers(res), []);
  });
});
