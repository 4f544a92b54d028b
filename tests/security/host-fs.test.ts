// Host users and sandbox ids against sandbox files and secrets (issue 16, "Local host users can read
// and write sandbox files and secrets"). Attackers: an unprivileged host user (`nobody`), and code
// running under one sandbox's host uid range (what a setuid binary made in sandbox A, run from the
// host, used to give: euid 100000, shared by every sandbox). Attacks: list/read the data dir, a
// sandbox's workspace, its state.json/config.json (env secrets), the db and the API key; run a
// setuid-root binary made inside a sandbox from its host path; read, write or signal sandbox B as
// sandbox A's root uid. Expected refusals: EACCES on every path (0700 data dir, 0600 files,
// mounts under a dir only the sandbox's own root may traverse), no privilege from setuid files
// (nosuid mounts), disjoint per-sandbox uid ranges (A's root owns nothing of B and cannot signal it).
// Every probe runs as a real other uid (spawn with uid/gid); each has a control that shows the
// probe would see the attack work (same probe as the legitimate owner, or on a suid-capable fs).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startAtoll, createSandbox, exec, hostResources, type Atoll } from "../e2e/harness.js";

const NOBODY = 65534;
const SECRET = "sk-live-host-fs-secret-0123456789";
const STORAGE_BASE = 100000; // the oci driver's default storage range (uidBase)

let atoll: Atoll;
let A: Awaited<ReturnType<typeof hostResources>>;
let B: Awaited<ReturnType<typeof hostResources>>;
let dataDir: string;

/** Runs cmd as uid/gid (no supplementary groups), with optional extra fds (child fd 3, 4, ...). */
function as(uid: number, cmd: string, args: string[], fds: number[] = []) {
  const r = spawnSync(cmd, args, { uid, gid: uid, stdio: ["ignore", "pipe", "pipe", ...fds], encoding: "utf8", timeout: 20_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function mode(p: string): string {
  return (statSync(p).mode & 0o7777).toString(8).padStart(4, "0");
}

function mountOptions(target: string): string[] {
  const line = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === target);
  assert.ok(line, `${target} is mounted`);
  return line.split(" ")[3]!.split(",");
}

function initPid(r: typeof A): number {
  return JSON.parse(readFileSync(path.join(r.dir, "state.json"), "utf8")).pid;
}

before(async () => {
  // a data dir as older versions left it: world-searchable, with a world-readable API key file
  dataDir = mkdtempSync(path.join(os.tmpdir(), "atoll-sec-hostfs-"));
  chmodSync(dataDir, 0o755);
  writeFileSync(path.join(dataDir, "api-key"), `atoll_hostfs_${Date.now()}\n`, { mode: 0o644 });
  atoll = await startAtoll({ poolSize: 0, dataDir, apiKey: null });
  const limits = { memoryMiB: 256, diskMiB: 256 };
  await createSandbox(atoll, "hostfs-a", { limits, envVars: { API_KEY: SECRET } });
  await createSandbox(atoll, "hostfs-b", { limits, envVars: { API_KEY: SECRET } });
  const setup = await exec(atoll, "hostfs-b", [
    `echo ${SECRET} > /workspace/secret.txt`,
    "mkdir -m 700 /workspace/private && echo private > /workspace/private/key && chmod 600 /workspace/private/key",
    // the setuid attack: a copy of id(1), setuid root inside the sandbox
    "cp /usr/bin/id /workspace/suid-id && chmod 4755 /workspace/suid-id",
  ].join(" && "));
  assert.equal(setup.exitCode, 0, setup.stderr);
  A = await hostResources(dataDir, "hostfs-a");
  B = await hostResources(dataDir, "hostfs-b");
});

after(async () => {
  await atoll?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("host user nobody cannot list or read the data dir, state.json/config.json (env secrets), the db or the API key", { timeout: 60_000 }, () => {
  assert.equal(mode(dataDir), "0700", "an existing 0755 data dir is tightened on start");
  assert.ok(readFileSync(path.join(dataDir, "api-key"), "utf8").includes(atoll.apiKey), "control: the key file is the key in use");
  for (const [p, want] of [
    [path.join(B.dir, "state.json"), "0600"],
    [path.join(B.dir, "config.json"), "0600"],
    [path.join(dataDir, "atoll.db"), "0600"],
    [path.join(dataDir, "api-key"), "0600"],
    [path.join(dataDir, "sandboxes"), "0700"],
    [B.dir, "0700"],
  ] as const) assert.equal(mode(p), want, p);
  // control: the secret really is in those files (so a successful read would leak it)
  assert.ok(readFileSync(path.join(B.dir, "config.json"), "utf8").includes(SECRET));
  assert.ok(readFileSync(path.join(B.dir, "state.json"), "utf8").includes(SECRET));
  const ls = as(NOBODY, "ls", [dataDir]);
  assert.notEqual(ls.code, 0, `nobody listed the data dir: ${ls.out}`);
  assert.match(ls.out, /Permission denied/);
  for (const f of [path.join(B.dir, "state.json"), path.join(B.dir, "config.json"), path.join(dataDir, "atoll.db"), path.join(dataDir, "api-key"), path.join(dataDir, "sandboxes")]) {
    const r = as(NOBODY, "cat", [f]);
    assert.notEqual(r.code, 0, `nobody read ${f}`);
    assert.ok(!r.out.includes(SECRET), `nobody read the secret from ${f}`);
    assert.match(r.out, /Permission denied/, f);
  }
});

test("host user nobody cannot read a sandbox's workspace, neither through its root filesystem mount nor its disk", { timeout: 60_000 }, () => {
  const paths = [path.join(B.rootfs, "workspace/secret.txt"), path.join(B.diskMnt, "upper/workspace/secret.txt")];
  for (const p of paths) assert.equal(readFileSync(p, "utf8").trim(), SECRET, `control: root reads ${p}`);
  for (const p of [...paths, B.rootfs, B.mountDir]) {
    const r = as(NOBODY, "ls", ["-la", p]);
    assert.notEqual(r.code, 0, `nobody reached ${p}: ${r.out}`);
    assert.match(r.out, /Permission denied/, p);
  }
  assert.equal(mode(B.mountDir), "0710", "only the sandbox's own root group may traverse its mount dir");
  assert.equal(statSync(B.mountDir).gid, B.rootUid);
});

test("a setuid-root binary made inside a sandbox gives a host user no privilege: unreachable, and nosuid even via an open fd", { timeout: 60_000 }, () => {
  for (const m of [B.rootfs, B.diskMnt]) {
    const o = mountOptions(m);
    assert.ok(o.includes("nosuid") && o.includes("nodev"), `${m} mounted ${o.join(",")}`);
  }
  const viaRootfs = path.join(B.rootfs, "workspace/suid-id");
  const viaDisk = path.join(B.diskMnt, "upper/workspace/suid-id");
  assert.equal(mode(viaDisk), "4755", "control: the setuid bit is really stored");
  for (const p of [viaRootfs, viaDisk]) {
    const r = as(NOBODY, p, []);
    assert.notEqual(r.code, 0, `nobody ran ${p}: ${r.out}`);
  }
  // Even handed an open fd (no path walk), exec through the nosuid mounts keeps nobody's euid.
  for (const p of [viaRootfs, viaDisk]) {
    const fd = openSync(p, "r");
    try {
      const r = as(NOBODY, "/proc/self/fd/3", [], [fd]);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /^uid=65534\(nobody\)/);
      assert.ok(!r.out.includes("euid="), `setuid took effect via ${p}: ${r.out}`);
    } finally {
      closeSync(fd);
    }
  }
  // Control: the same probe on a filesystem without nosuid does gain the file owner's euid.
  const ctl = mkdtempSync(path.join("/var/tmp", "atoll-suid-control-"));
  try {
    chmodSync(ctl, 0o755);
    const bin = path.join(ctl, "suid-id");
    copyFileSync(viaDisk, bin);
    chownSync(bin, STORAGE_BASE, STORAGE_BASE);
    chmodSync(bin, 0o4755);
    const r = as(NOBODY, bin, []);
    assert.match(r.out, new RegExp(`euid=${STORAGE_BASE}`), `control probe must detect a working setuid: ${r.out}`);
  } finally {
    rmSync(ctl, { recursive: true, force: true });
  }
});

test("two sandboxes get disjoint host uid ranges, neither the shared storage range", { timeout: 60_000 }, () => {
  const ranges = [A, B].map((r) => {
    const [inside, outside, count] = readFileSync(`/proc/${initPid(r)}/uid_map`, "utf8").trim().split(/\s+/).map(Number);
    assert.equal(inside, 0);
    assert.equal(outside, r.rootUid, "the record's rootUid is the init's root on the host");
    assert.equal(readFileSync(`/proc/${initPid(r)}/gid_map`, "utf8").trim().split(/\s+/).map(Number)[1], r.rootUid);
    return [outside!, outside! + count! - 1] as const;
  });
  const [a, b] = ranges as [readonly [number, number], readonly [number, number]];
  assert.ok(a[1] < b[0] || b[1] < a[0], `ranges overlap: ${a} ${b}`);
  for (const r of ranges) assert.ok(r[1] < STORAGE_BASE || r[0] > STORAGE_BASE + 65535, `range ${r} overlaps storage`);
});

test("sandbox A's root uid cannot read, write or signal sandbox B (B's root can: control)", { timeout: 60_000 }, () => {
  const aRoot = A.rootUid!;
  const bRoot = B.rootUid!;
  // Path: B's mount dir is closed to A (and to everyone but B's root).
  const walk = as(aRoot, "cat", [path.join(B.rootfs, "workspace/secret.txt")]);
  assert.notEqual(walk.code, 0, `A's root read B's workspace by path: ${walk.out}`);
  // Even with B's workspace handed over as an open directory fd, B's private files are B's alone.
  const ws = openSync(path.join(B.rootfs, "workspace"), "r");
  const raw = openSync(path.join(B.diskMnt, "upper/workspace"), "r");
  try {
    for (const fd of [ws, raw]) {
      const read = as(aRoot, "cat", ["/proc/self/fd/3/private/key"], [fd]);
      assert.notEqual(read.code, 0, `A's root read B's private file: ${read.out}`);
      assert.match(read.out, /Permission denied/);
      const write = as(aRoot, "sh", ["-c", "echo pwned > /proc/self/fd/3/secret.txt"], [fd]);
      assert.notEqual(write.code, 0, `A's root wrote B's file: ${write.out}`);
    }
    const own = as(bRoot, "cat", ["/proc/self/fd/3/private/key"], [ws]);
    assert.equal(own.out.trim(), "private", `control: B's root reads its own file this way (${own.out})`);
    // the raw storage belongs to no sandbox's range: not even B's root owns it
    const rawOwn = as(bRoot, "cat", ["/proc/self/fd/3/private/key"], [raw]);
    assert.notEqual(rawOwn.code, 0, `B's root read raw storage: ${rawOwn.out}`);
  } finally {
    closeSync(ws);
    closeSync(raw);
  }
  assert.equal(readFileSync(path.join(B.rootfs, "workspace/secret.txt"), "utf8").trim(), SECRET, "B's file unchanged");
  const kill = as(aRoot, "kill", ["-0", String(initPid(B))]);
  assert.notEqual(kill.code, 0, `A's root can signal B's init: ${kill.out}`);
  assert.equal(as(bRoot, "kill", ["-0", String(initPid(B))]).code, 0, "control: B's root can signal its own init");
});

test("the sandbox still works as root inside: its files are its root's, writes land in the storage range", { timeout: 60_000 }, async () => {
  const r = await exec(atoll, "hostfs-b", "id -u; stat -c %u:%g /workspace/secret.txt /bin/sh; touch /workspace/new && echo ok");
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.stdout, "0\n0:0\n0:0\nok\n");
  const st = statSync(path.join(B.diskMnt, "upper/workspace/new"));
  assert.deepEqual([st.uid, st.gid], [STORAGE_BASE, STORAGE_BASE]);
});
