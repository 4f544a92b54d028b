// The built `atoll` command against the real stack: exit-code passthrough, ls/rm, cp round trips
// (file and directory), background processes, expose/ports, clear errors and exit codes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT, startAtoll, type Atoll } from "./harness.js";

// The built command (scripts/build.mjs), as users run it; the source launcher is checked in packages/cli/test.
const BIN = path.join(REPO_ROOT, "packages/cli/dist/atoll.mjs");
let atoll: Atoll;
const tmp = mkdtempSync(path.join(os.tmpdir(), "atoll-cli-e2e-"));

before(async () => {
  // The server too is the built command: `atoll serve` (its agent found through dist/agent).
  atoll = await startAtoll({ poolSize: 0, command: [BIN, "serve"] });
});
after(async () => {
  await atoll?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function atollCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: { ...process.env, ATOLL_URL: atoll.url, ATOLL_API_KEY: atoll.apiKey, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

test("exec streams output and exits with the command's exit code", async () => {
  const r = await atollCli(["exec", "cli-box", "--", "echo out; echo err >&2; exit 5"]);
  assert.equal(r.code, 5, r.stderr);
  assert.equal(r.stdout, "out\n");
  assert.equal(r.stderr, "err\n");
  const ok = await atollCli(["exec", "--cwd", "/tmp", "--env", "A=b c", "cli-box", "--", "echo", "$A", "&&", "pwd"]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, "b c\n/tmp\n");
});

test("ls lists sandboxes (table and --json)", async () => {
  const t = await atollCli(["ls"]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^ID\s+STATUS/);
  assert.match(t.stdout, /\ncli-box\s+running/);
  const j = await atollCli(["ls", "--json"]);
  assert.ok((JSON.parse(j.stdout) as { id: string }[]).some((s) => s.id === "cli-box"));
});

test("cp copies a file and a directory in and back out", async () => {
  writeFileSync(path.join(tmp, "one.txt"), "one ☃\n");
  mkdirSync(path.join(tmp, "dir/sub"), { recursive: true });
  writeFileSync(path.join(tmp, "dir/sub/two.bin"), Buffer.from([0, 255, 10, 13]));
  for (const args of [["cp", "one.txt", "cli-box:/workspace/one.txt"], ["cp", "dir", "cli-box:/workspace/dir"]]) {
    const r = await atollCli(args);
    assert.equal(r.code, 0, r.stderr);
  }
  assert.equal((await atollCli(["exec", "cli-box", "--", "cat /workspace/one.txt; ls /workspace/dir/sub"])).stdout, "one ☃\ntwo.bin\n");
  assert.equal((await atollCli(["cp", "cli-box:/workspace/one.txt", "back/one.txt"])).code, 0);
  assert.equal((await atollCli(["cp", "cli-box:/workspace/dir", "back/dir"])).code, 0);
  assert.equal(readFileSync(path.join(tmp, "back/one.txt"), "utf8"), "one ☃\n");
  assert.deepEqual([...readFileSync(path.join(tmp, "back/dir/sub/two.bin"))], [0, 255, 10, 13]);
  // cp conventions: an existing directory (or a trailing "/") receives the file under its own name
  assert.equal((await atollCli(["cp", "one.txt", "cli-box:/workspace/dir"])).code, 0);
  assert.equal((await atollCli(["cp", "one.txt", "cli-box:/workspace/new/"])).code, 0);
  assert.equal((await atollCli(["exec", "cli-box", "--", "cat /workspace/dir/one.txt /workspace/new/one.txt"])).stdout, "one ☃\none ☃\n");
  mkdirSync(path.join(tmp, "into"));
  assert.equal((await atollCli(["cp", "cli-box:/workspace/one.txt", "into"])).code, 0);
  assert.equal(readFileSync(path.join(tmp, "into/one.txt"), "utf8"), "one ☃\n");
  const missing = await atollCli(["cp", "cli-box:/workspace/nope.txt", "x.txt"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /FILE_NOT_FOUND/);
});

test("start, ps, logs, kill", async () => {
  const s = await atollCli(["start", "cli-box", "--id", "ticker", "--", "echo tick; sleep 60"]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout.trim(), "ticker");
  const ps = await atollCli(["ps", "cli-box"]);
  assert.match(ps.stdout, /\nticker\s+\d+\s+running/);
  const logs = await atollCli(["logs", "cli-box", "ticker"]);
  assert.equal(logs.stdout, "tick\n");
  const k = await atollCli(["kill", "cli-box", "ticker", "--signal", "SIGKILL"]);
  assert.equal(k.code, 0, k.stderr);
  const follow = await atollCli(["logs", "-f", "cli-box", "ticker"]); // ends because the process has exited
  assert.equal(follow.code, 0);
  assert.equal(follow.stdout, "tick\n");
  assert.equal((await atollCli(["kill", "cli-box", "no-such"])).code, 1);
});

test("expose prints the preview URL; ports lists it; unexpose removes it", async () => {
  const e = await atollCli(["expose", "cli-box", "8090"]);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout.trim(), new RegExp(`^http://8090-cli-box-[a-z0-9_-]{16}\\.localhost:${atoll.port}/$`));
  const p = await atollCli(["ports", "cli-box"]);
  assert.match(p.stdout, /\n8090\s+/);
  assert.equal((await atollCli(["unexpose", "cli-box", "8090"])).code, 0);
  assert.doesNotMatch((await atollCli(["ports", "cli-box"])).stdout, /8090/);
});

test("errors: usage is exit 2, failures exit 1 with 'Cannot …' and the code; wrong key is UNAUTHORIZED", async () => {
  const u = await atollCli(["exec", "cli-box"]);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /missing command/);
  const bad = await atollCli(["ls"], { ATOLL_API_KEY: "wrong" });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /UNAUTHORIZED/);
  const down = await atollCli(["ls"], { ATOLL_URL: "http://127.0.0.1:1" });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^atoll: Cannot list sandboxes: no answer from/);
});

test("pause, resume, snapshot, snapshots, template ls", async () => {
  assert.match((await atollCli(["pause", "cli-box"])).stdout, /^cli-box paused/);
  const blocked = await atollCli(["exec", "cli-box", "--", "true"]);
  assert.equal(blocked.code, 1);
  assert.match(blocked.stderr, /SANDBOX_PAUSED/);
  assert.match((await atollCli(["resume", "cli-box"])).stdout, /^cli-box running/);
  const s = await atollCli(["snapshot", "cli-box", "cli-snap"]);
  assert.equal(s.code, 0, s.stderr);
  assert.equal(s.stdout.trim(), "cli-snap");
  assert.match((await atollCli(["snapshots"])).stdout, /\ncli-snap\s+cli-box\s/);
  assert.equal((await atollCli(["snapshots", "rm", "cli-snap"])).code, 0);
  assert.doesNotMatch((await atollCli(["snapshots"])).stdout, /cli-snap/);
  const t = await atollCli(["template", "ls"]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^NAME\s+TYPE/);
  const bad = await atollCli(["template", "add", "x"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /needs a path/);
});

test("rm destroys the sandbox", async () => {
  const r = await atollCli(["rm", "cli-box"]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch((await atollCli(["ls"])).stdout, /cli-box/);
});
