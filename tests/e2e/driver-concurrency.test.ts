// Two control planes (different data dirs) on one host, starting and destroying sandboxes in
// parallel: host init, address allocation and names must never collide, nothing may leak.
import { test } from "node:test";
import assert from "node:assert/strict";
import { agentVersion, disposeDriver, leftovers, newDriver, spec } from "./driver-helpers.js";

test("two drivers start and destroy sandboxes in parallel without collisions or leaks", async () => {
  const a = newDriver();
  const b = newDriver();
  try {
    await Promise.all([a.init(), b.init()]);
    assert.notEqual(a.cfg.tag, b.cfg.tag);
    const ids = ["c-1", "c-2", "c-3"];
    const started = await Promise.all([
      ...ids.map((id) => a.start(spec(id))),
      ...ids.map((id) => b.start(spec(id))),
      a.start(spec("c-1")), // the same id twice at once: one sandbox
    ]);
    const hosts = started.slice(0, 6).map((s) => s.endpoint!.host);
    assert.equal(new Set(hosts).size, 6, `distinct addresses: ${hosts}`);
    assert.equal(started[6]!.endpoint!.host, started[0]!.endpoint!.host);
    for (const s of started.slice(0, 6)) assert.equal((await agentVersion(s.endpoint!)).status, 200);
    const res = [...ids.map((id) => a.resources(id)), ...ids.map((id) => b.resources(id))];
    assert.equal(new Set(res.map((r) => r.netns)).size, 6);
    assert.equal(new Set(res.map((r) => r.container)).size, 6);
    await Promise.all([...ids.map((id) => a.destroy(id)), ...ids.map((id) => b.destroy(id))]);
    for (const r of res) assert.deepEqual(leftovers(r), [], r.name);
  } finally {
    for (const d of [a, b]) await disposeDriver(d);
  }
});
