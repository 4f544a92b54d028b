// /api/watch against a real agent: events in order for a nested directory created after the watch
// began, hidden files, rename, and watchers released when the client disconnects.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { inotifyWatches, postJson, SSEClient, startAgent, type TestAgent } from "./files-helper.js";

let agent: TestAgent;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent?.stop();
});

/** Waits for the next event that satisfies pred, failing on any other non-modify event. */
async function expectEvent(c: SSEClient, want: { type: string; path: string; isDirectory?: boolean; oldPath?: string }): Promise<any> {
  const ev = await c.next();
  assert.ok(ev, `stream ended while waiting for ${want.type} ${want.path}`);
  assert.equal(typeof ev.timestamp, "string");
  const { timestamp: _t, ...rest } = ev;
  assert.deepEqual(rest, { isDirectory: false, ...want });
  return ev;
}

test("create/modify/delete in a nested directory made after the watch began, in order", async () => {
  const root = `${agent.workspace}/w1`;
  fs.mkdirSync(root);
  const c = new SSEClient(`${agent.url}/api/watch`, { path: root, recursive: true });
  try {
    const ready = await c.next();
    assert.equal(c.status, 200);
    assert.deepEqual([ready.type, ready.path], ["ready", root]);

    fs.mkdirSync(`${root}/a`);
    await expectEvent(c, { type: "create", path: `${root}/a`, isDirectory: true });
    fs.mkdirSync(`${root}/a/b`);
    await expectEvent(c, { type: "create", path: `${root}/a/b`, isDirectory: true });
    fs.closeSync(fs.openSync(`${root}/a/b/f.txt`, "w"));
    await expectEvent(c, { type: "create", path: `${root}/a/b/f.txt` });
    fs.appendFileSync(`${root}/a/b/f.txt`, "more");
    await expectEvent(c, { type: "modify", path: `${root}/a/b/f.txt` });
    fs.renameSync(`${root}/a/b/f.txt`, `${root}/a/g.txt`);
    await expectEvent(c, { type: "rename", path: `${root}/a/g.txt`, oldPath: `${root}/a/b/f.txt` });
    fs.unlinkSync(`${root}/a/g.txt`);
    await expectEvent(c, { type: "delete", path: `${root}/a/g.txt` });
    fs.rmdirSync(`${root}/a/b`);
    await expectEvent(c, { type: "delete", path: `${root}/a/b`, isDirectory: true });
  } finally {
    c.close();
  }
});

test("a file written together with its directory in one go is still reported", async () => {
  const root = `${agent.workspace}/w2`;
  fs.mkdirSync(root);
  const c = new SSEClient(`${agent.url}/api/watch`, { path: root });
  try {
    assert.equal((await c.next()).type, "ready");
    // Directory and file appear before the agent can put a watcher on the new directory.
    fs.mkdirSync(`${root}/x/y`, { recursive: true });
    fs.writeFileSync(`${root}/x/y/early.txt`, "e");
    const seen: string[] = [];
    while (!seen.includes(`create ${root}/x/y/early.txt`)) {
      const ev = await c.next();
      assert.ok(ev, "stream ended");
      seen.push(`${ev.type} ${ev.path}`);
    }
    assert.deepEqual(seen.filter((s) => s.startsWith("create")), [`create ${root}/x`, `create ${root}/x/y`, `create ${root}/x/y/early.txt`]);
  } finally {
    c.close();
  }
});

test("a burst of 2000 files in a new directory: every create reported exactly once", async () => {
  const root = `${agent.workspace}/burst`;
  fs.mkdirSync(root);
  const c = new SSEClient(`${agent.url}/api/watch`, { path: root });
  try {
    assert.equal((await c.next()).type, "ready");
    fs.mkdirSync(`${root}/many`);
    for (let i = 0; i < 2000; i++) fs.closeSync(fs.openSync(`${root}/many/f${i}`, "w"));
    const seen = new Map<string, number>();
    while (seen.size < 2001) {
      const ev = await c.next(10_000);
      assert.ok(ev, "stream ended");
      assert.equal(ev.type, "create", JSON.stringify(ev));
      seen.set(ev.path, (seen.get(ev.path) ?? 0) + 1);
    }
    assert.ok([...seen.values()].every((n) => n === 1));
    fs.writeFileSync(`${root}/last`, "");
    // Nothing else (duplicates) is pending: the next event is the marker file.
    assert.equal((await c.next()).path, `${root}/last`);
  } finally {
    c.close();
  }
});

test("hidden entries are skipped unless includeHidden; non-recursive watches one level", async () => {
  const root = `${agent.workspace}/w3`;
  fs.mkdirSync(`${root}/sub`, { recursive: true });
  const plain = new SSEClient(`${agent.url}/api/watch`, { path: root, recursive: false });
  const hidden = new SSEClient(`${agent.url}/api/watch`, { path: root, recursive: true, includeHidden: true });
  try {
    assert.equal((await plain.next()).type, "ready");
    assert.equal((await hidden.next()).type, "ready");
    // Empty files: a write after the create could add a modify event, which is not under test here.
    const touch = (p: string) => fs.closeSync(fs.openSync(p, "w"));
    touch(`${root}/.env`);
    touch(`${root}/sub/deep.txt`);
    touch(`${root}/visible.txt`);
    await expectEvent(hidden, { type: "create", path: `${root}/.env` });
    await expectEvent(hidden, { type: "create", path: `${root}/sub/deep.txt` });
    await expectEvent(hidden, { type: "create", path: `${root}/visible.txt` });
    // The plain watch saw neither the hidden file nor the nested one: its first event is visible.txt.
    await expectEvent(plain, { type: "create", path: `${root}/visible.txt` });
  } finally {
    plain.close();
    hidden.close();
  }
});

test("disconnecting releases every inotify watch; bad requests get coded errors", async () => {
  const root = `${agent.workspace}/w4`;
  for (let i = 0; i < 5; i++) fs.mkdirSync(`${root}/d${i}/e`, { recursive: true });
  // Earlier tests' watches are closed; wait until the agent has released them (bounded).
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(cond(), `timed out waiting until ${what}`);
  };
  await until(() => inotifyWatches(agent.pid) === 0, "earlier watches are released");
  const c = new SSEClient(`${agent.url}/api/watch`, { path: root, recursive: true });
  assert.equal((await c.next()).type, "ready");
  assert.equal(inotifyWatches(agent.pid), 11, "root + 5 dirs + 5 subdirs");
  c.close();
  await until(() => inotifyWatches(agent.pid) === 0, "the closed watch is released");

  const file = await postJson(agent.url, "/api/watch", { path: `${root}/../w4/d0/../../w3/visible.txt` });
  assert.deepEqual([file.status, file.body.code], [400, "NOT_DIRECTORY"]);
  const missing = await postJson(agent.url, "/api/watch", { path: `${root}/nope` });
  assert.deepEqual([missing.status, missing.body.code], [404, "FILE_NOT_FOUND"]);
  const nul = await postJson(agent.url, "/api/watch", { path: `${root}\u0000` });
  assert.deepEqual([nul.status, nul.body.code], [400, "INVALID_PATH"]);
});

test("deleting the watched directory ends the stream after its delete event", async () => {
  const root = `${agent.workspace}/w5`;
  fs.mkdirSync(root);
  const c = new SSEClient(`${agent.url}/api/watch`, { path: root });
  try {
    assert.equal((await c.next()).type, "ready");
    fs.rmdirSync(root);
    await expectEvent(c, { type: "delete", path: root, isDirectory: true });
    assert.equal(await c.next(), null, "the stream ends");
  } finally {
    c.close();
  }
});
