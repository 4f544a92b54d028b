// Hostile archives from a sandbox must not change the host (issue 16, "Broken" item 2).
//
// Attacker: code running as root inside a sandbox. It controls everything the sandbox answers,
// and the archive `atoll cp <id>:<dir> <local>` unpacks on the host — often as root.
//   1. It replaces `tar` in its PATH (the original attack): the agent must not run it.
//   2. It kills the agent and answers on :3000 itself with a crafted archive (char device 1,3,
//      setuid-root files, a FIFO, "../" and absolute paths, a symlink to /etc with a file written
//      through it, symlink chains, hard links to host files): the CLI must create nothing outside
//      the destination, no device, no FIFO, no setuid/setgid/sticky bit, leave host files untouched,
//      and print a warning line for every refused entry.
// The SDK's extractor is also checked on its own (no sandbox) with the same archive.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar";
import { createClient, getSandbox, type Sandbox } from "@atoll/sdk";
import { extractUntrusted } from "@atoll/sdk/node";
import { REPO_ROOT, startAtoll, waitFor, type Atoll } from "../e2e/harness.js";
import { buildHostileTar, FORGED_NAME, KEPT } from "./hostile-tar.js";

const BIN = path.join(REPO_ROOT, "packages/cli/bin/atoll");
let atoll: Atoll;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-hostile-archive-"));

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function sandbox(id: string): Sandbox {
  return getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), id);
}

function atollCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(BIN, args, { cwd: tmp, env: { ...process.env, ATOLL_URL: atoll.url, ATOLL_API_KEY: atoll.apiKey }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh scene: a host directory "outside" the destination and a host canary file. */
function scene(name: string) {
  const base = fs.mkdtempSync(path.join(tmp, `${name}-`));
  const outside = path.join(base, "outside");
  fs.mkdirSync(outside);
  const canary = path.join(base, "canary.txt");
  fs.writeFileSync(canary, "canary\n", { mode: 0o644 });
  const dest = path.join(base, "a/b/dest");
  const tag = `${name}-${process.pid}-${Date.now().toString(36)}`;
  return { base, outside, canary, dest, tag };
}

/** Every path under dir (lstat), relative. */
function walk(dir: string): string[] {
  const out: string[] = [];
  const go = (d: string) => {
    for (const n of fs.readdirSync(d)) {
      const abs = path.join(d, n);
      out.push(path.relative(dir, abs));
      if (fs.lstatSync(abs).isDirectory()) go(abs);
    }
  };
  go(dir);
  return out;
}

/** The assertions shared by both extraction paths: what must (not) exist after the attack. */
function assertContained(s: ReturnType<typeof scene>): void {
  const destReal = fs.realpathSync(s.dest);
  for (const rel of walk(s.dest)) {
    const abs = path.join(s.dest, rel);
    const st = fs.lstatSync(abs);
    assert.ok(st.isFile() || st.isDirectory() || st.isSymbolicLink(), `${rel} is a device, FIFO or socket (mode ${st.mode.toString(8)})`);
    assert.equal(st.mode & 0o7000, 0, `${rel} has setuid/setgid/sticky bits (mode ${(st.mode & 0o7777).toString(8)})`);
    assert.equal(st.uid, process.getuid!(), `${rel} is owned by uid ${st.uid}: archive owners were kept`);
    if (st.isSymbolicLink()) {
      const target = fs.readlinkSync(abs);
      assert.ok(!path.isAbsolute(target), `${rel} -> ${target}: absolute symlink kept`);
      const resolved = (() => {
        try {
          return fs.realpathSync(abs);
        } catch {
          return path.resolve(path.dirname(abs), target); // dangling: where a write would go
        }
      })();
      assert.ok(resolved === destReal || resolved.startsWith(destReal + "/"), `${rel} -> ${target} resolves outside the destination (${resolved})`);
    }
    if (st.isFile()) assert.equal(st.nlink === 1 || rel === "ok.txt" || rel === "ok-hard", true, `${rel} is hard-linked elsewhere (nlink ${st.nlink})`);
  }
  // nothing landed outside the destination
  assert.deepEqual(fs.readdirSync(s.outside), [], "files were written into the outside directory");
  assert.deepEqual(fs.readdirSync(path.dirname(s.dest)), ["dest"], "files were written next to the destination");
  assert.deepEqual(fs.readdirSync(s.base).sort(), ["a", "canary.txt", "outside"].sort());
  assert.ok(!fs.readdirSync("/etc").some((n) => n.includes(s.tag)), "a file was written into the host's /etc");
  assert.ok(!fs.existsSync(`/abs-${s.tag}`));
  assert.equal(fs.readFileSync(s.canary, "utf8"), "canary\n", "the host canary file changed");
  assert.equal(fs.statSync(s.canary).nlink, 1, "the host canary file gained a hard link");
  // ordinary entries survive
  for (const [rel, want] of Object.entries(KEPT)) {
    const abs = path.join(s.dest, rel);
    if (want.startsWith("symlink:")) assert.equal(fs.readlinkSync(abs), want.slice(8), rel);
    else assert.equal(fs.readFileSync(abs, "utf8"), want, rel);
  }
}

/** Entry names of the crafted archive that a safe extraction must refuse or change (each gets a warning). */
function refused(s: ReturnType<typeof scene>): string[] {
  return ["dev-mem", "blk", "fifo", FORGED_NAME, "suid-root", "sgid-root", "sticky", `../escape-${s.tag}`, `sub/../../escape2-${s.tag}`, `${s.outside}/abs-${s.tag}`, "etc", "out", "up", "x/l2", "canary-abs", "canary-up", "passwd-hard"];
}

/** The entry paths named by the CLI's "warning: skipped <json path>: <reason>" lines. */
function warnedPaths(stderr: string): string[] {
  return stderr.split("\n").flatMap((l) => {
    const m = /^warning: skipped ("(?:[^"\\]|\\.)*"): /.exec(l);
    return m ? [JSON.parse(m[1]!) as string] : [];
  });
}

test("the SDK's extractor, given the crafted hostile archive directly, refuses every hostile entry (no sandbox)", async () => {
  // Attacker: whoever produced the archive. Expected: only safe entries land, each refusal reported.
  const s = scene("direct");
  fs.mkdirSync(s.dest, { recursive: true });
  const archive = await buildHostileTar(s);
  const report = await extractUntrusted(Readable.from([archive]), s.dest);
  assertContained(s);
  const skippedPaths = report.skipped.map((k) => k.path);
  for (const name of refused(s)) assert.ok(skippedPaths.includes(name), `no warning for ${name}: ${JSON.stringify(skippedPaths)}`);
});

test("an archive past the entry or byte limit stops with LIMIT_EXCEEDED before writing the oversized entry (no sandbox)", async () => {
  // Attacker: whoever produced the archive, sending more than the host agreed to take (e.g. a
  // header that claims 100 GiB, or a gzip bomb). Expected: a coded error, nothing oversized written.
  const s = scene("limits");
  fs.mkdirSync(s.dest, { recursive: true });
  const many = await buildHostileTar(s);
  await assert.rejects(extractUntrusted(Readable.from([many]), s.dest, { maxEntries: 3 }), (e: any) => e.code === "LIMIT_EXCEEDED" && /more than 3 entries/.test(e.message));
  const huge = new tar.Header({ path: "huge.bin", type: "File", size: 100 * 2 ** 30, mode: 0o644, mtime: new Date(0) });
  const block = Buffer.alloc(512);
  huge.encode(block, 0);
  const dest2 = path.join(s.base, "dest2");
  fs.mkdirSync(dest2);
  await assert.rejects(extractUntrusted(Readable.from([block, Buffer.alloc(1024 * 1024)]), dest2), (e: any) => e.code === "LIMIT_EXCEEDED" && /bytes/.test(e.message));
  assert.ok(!fs.existsSync(path.join(dest2, "huge.bin")), "the oversized entry was written");
});

test("a sandbox that replaces tar in its PATH (and /usr/bin/tar) does not change the archive the agent produces", async () => {
  // Attacker: root in the sandbox plants `tar` that writes a marker and emits a hostile stream.
  // Expected: the agent never runs it (no marker), download and upload still carry the real tree.
  const sb = sandbox("tar-swap");
  await sb.exec("mkdir -p /workspace/proj/sub && echo one > /workspace/proj/a.txt && echo two > /workspace/proj/sub/b.txt");
  const evil = "#!/bin/sh\ntouch /tmp/evil-tar-ran\nprintf 'not a tar, or worse'\n";
  await sb.writeFile("/usr/local/bin/tar", evil);
  const swap = await sb.exec("chmod 755 /usr/local/bin/tar && cp /usr/local/bin/tar /usr/bin/tar && command -v tar && tar --version && rm /tmp/evil-tar-ran");
  assert.match(swap.stdout, /\/usr\/local\/bin\/tar\nnot a tar/, "the evil tar is what the sandbox's PATH runs");

  const body = await sb.downloadDirectory("/workspace/proj");
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({ onReadEntry: (e) => (names.push(e.path), e.resume()) });
    parser.on("end", resolve);
    parser.on("error", reject);
    Readable.fromWeb(body as import("node:stream/web").ReadableStream).pipe(parser as unknown as NodeJS.WritableStream);
  });
  assert.deepEqual(names.sort(), ["./", "./a.txt", "./sub/", "./sub/b.txt"]);

  const up = fs.mkdtempSync(path.join(tmp, "up-"));
  fs.writeFileSync(path.join(up, "c.txt"), "three\n");
  const r = await atollCli(["cp", up, "tar-swap:/workspace/up"]);
  assert.equal(r.code, 0, r.stderr);
  const back = await atollCli(["cp", "tar-swap:/workspace/proj", "proj-back"]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(fs.readFileSync(path.join(tmp, "proj-back/sub/b.txt"), "utf8"), "two\n");
  const check = await sb.exec("cat /workspace/up/c.txt; test -e /tmp/evil-tar-ran && echo EVIL-RAN || echo clean");
  assert.equal(check.stdout, "three\nclean\n");
  await sb.destroy();
});

// The hostile agent: a tiny server the attacker starts in the sandbox. It waits for :3000 to be
// free, then answers every call the CLI makes (exec says "it is a directory", the archive route
// returns the crafted tar).
const EVIL_SERVER = `
const http = require("http");
const fs = require("fs");
const archive = fs.readFileSync("/tmp/hostile.tar");
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (req.url.startsWith("/api/archive")) {
      res.writeHead(200, { "content-type": "application/x-tar", "content-length": archive.length });
      return res.end(archive);
    }
    const body = JSON.stringify({ success: true, exitCode: 0, stdout: "", stderr: "", command: "", timestamp: new Date().toISOString(), evil: true, version: "evil" });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
});
const listen = () => server.listen(3000, "0.0.0.0");
server.on("error", () => setTimeout(listen, 20));
listen();
`;

// Started detached: the evil server, then for 5 s every agent entry.sh (re)starts is killed, by the
// pid whose cmdline names the agent bundle, until the evil server holds :3000.
const TAKEOVER = `
node /tmp/evil-server.cjs >/tmp/evil.log 2>&1 &
for i in $(seq 50); do
  for p in /proc/[0-9]*; do
    if tr '\\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q '/opt/atoll/agent/agent.mjs'; then kill -9 "\${p#/proc/}"; fi
  done
  sleep 0.1
done
`;

test("a sandbox that kills its agent and serves a crafted hostile archive cannot make `atoll cp` change the host", async () => {
  // Attacker: root in the sandbox replaces the agent on :3000. Expected: `atoll cp` (run as root,
  // as a user would) extracts only safe entries, warns once per refused entry, exits 3.
  const s = scene("cli");
  const sb = sandbox("evil-agent");
  await sb.exec("true"); // created and running
  await sb.uploadFile("/tmp/hostile.tar", await buildHostileTar(s));
  await sb.writeFile("/tmp/evil-server.cjs", EVIL_SERVER);
  await sb.writeFile("/tmp/takeover.sh", TAKEOVER);
  await sb.exec("setsid sh /tmp/takeover.sh </dev/null >/dev/null 2>&1 &").catch(() => {}); // the agent may die before it answers
  await waitFor("the evil server to answer on :3000", async () => {
    const r = await atoll.json("POST", "/v1/sandboxes/evil-agent/api/execute", { command: "true" }).catch(() => null);
    return r?.status === 200 && r.body?.evil === true;
  }, 30_000, 200);

  const r = await atollCli(["cp", "evil-agent:/workspace/anything", s.dest]);
  assert.equal(r.code, 3, `exit ${r.code}\n${r.stderr}`);
  assertContained(s);
  // the forged name is printed escaped: no raw escape sequence, no forged line
  assert.ok(!r.stderr.includes("\u001b"), "a raw escape sequence reached the terminal");
  assert.ok(!r.stderr.split("\n").includes("all entries extracted, no warnings"), "an entry name forged an output line");
  const warned = warnedPaths(r.stderr);
  for (const name of refused(s)) assert.ok(warned.includes(name), `no warning line for ${name}:\n${r.stderr}`);
  await atoll.json("DELETE", "/v1/sandboxes/evil-agent");
});
