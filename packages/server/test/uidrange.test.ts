// The per-sandbox uid range allocator (drivers/oci/uidrange.ts) on a real temp run dir: distinct
// ranges, leases that only their owner frees, re-taking a recorded range, and reclaiming ranges of
// sandboxes whose dir is gone — but never one in which a process still runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { UidRanges } from "../src/drivers/oci/uidrange.js";

// far from the driver's real ranges (2^30..2^31): sandboxes running on this host must not matter
const START = 3 * 2 ** 30;
const COUNT = 65536;

function fresh() {
  const root = mkdtempSync(path.join(os.tmpdir(), "atoll-uids-"));
  return { root, u: new UidRanges(root, START, COUNT, 4) };
}

test("ranges are distinct, owned, and freed only by their owner", () => {
  const { root, u } = fresh();
  try {
    const a = u.allocate("t/a", "/x/a");
    const b = u.allocate("t/b", "/x/b");
    assert.equal(a, START);
    assert.equal(b, START + COUNT);
    assert.equal(readFileSync(path.join(root, "uids", String(a)), "utf8"), "t/a\n/x/a");
    u.release(a, "t/b");
    assert.equal(u.owner(a), "t/a", "another owner cannot free it");
    assert.equal(u.keep(a, "t/b", "/x/b"), false, "nor take it");
    assert.equal(u.keep(a, "t/a", "/x/a"), true, "its owner keeps it");
    u.release(a, "t/a");
    assert.equal(u.owner(a), undefined);
    assert.equal(u.keep(a, "t/a", "/x/a"), true, "a recorded range is re-taken when free (after a reboot)");
    assert.equal(u.keep(100000, "t/a", "/x/a"), false, "the storage range is never a sandbox's");
    assert.equal(u.keep(START + 1, "t/a", "/x/a"), false, "nor an unaligned base");
    u.allocate("t/c", "/x/c");
    u.allocate("t/d", "/x/d");
    assert.throws(() => u.allocate("t/e", "/x/e"), /all 4 ranges are in use/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("ranges of sandboxes whose dir is gone are reclaimed unless a process runs in them", () => {
  const { root, u } = fresh();
  try {
    const live = path.join(root, "live");
    mkdirSync(live);
    const kept = u.allocate("t/live", live);
    const gone = u.allocate("t/gone", path.join(root, "gone"));
    // a range whose dir is gone but in which a process runs: this test's own uid (0) as the range
    const busy = new UidRanges(root, 0, COUNT, 1);
    assert.equal(busy.keep(0, "t/busy", path.join(root, "gone-too")), true);
    assert.equal(u.reapOrphans() + busy.reapOrphans(), 1);
    assert.equal(u.owner(kept), "t/live");
    assert.equal(u.owner(gone), undefined, "dir gone, nothing running: free again");
    assert.equal(busy.owner(0), "t/busy", "a process still runs as its uid: kept");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
