// Directory transfer through the archive routes: a 50 MiB tree up (tar stream in) and back down
// (tar stream out) through a real agent, with identical checksums, modes and symlinks.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { memoryOf, startAgent, type TestAgent } from "./files-helper.js";

let agent: TestAgent;
let tmp: string;
before(async () => {
  agent = await startAgent();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-archive-test-"));
});
after(async () => {
  await agent?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Builds a ~50 MiB tree: nested dirs, one 20 MiB file, many small ones, an executable, a symlink, an empty dir. */
function makeTree(root: string): number {
  let total = 0;
  const put = (rel: string, data: Buffer, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), data, { mode });
    total += data.length;
  };
  put("big/blob.bin", crypto.randomBytes(20 * 1024 * 1024));
  for (let d = 0; d < 10; d++) {
    for (let f = 0; f < 30; f++) put(`d${d}/sub${f % 3}/file-${f}.dat`, crypto.randomBytes(100 * 1024 + d * 977 + f));
  }
  put("bin/run.sh", Buffer.from("#!/bin/sh\necho hi\n"), 0o755);
  put("name with spaces/ünïcødé.txt", Buffer.from("text\n"));
  fs.mkdirSync(path.join(root, "empty/dir"), { recursive: true });
  fs.symlinkSync("../big/blob.bin", path.join(root, "bin/link"));
  return total;
}

/** relative path → "type mode sha256|target" for every entry under root. */
function manifest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir)) {
      const abs = path.join(dir, name);
      const rel = path.relative(root, abs);
      const st = fs.lstatSync(abs);
      if (st.isSymbolicLink()) out.set(rel, `link ${fs.readlinkSync(abs)}`);
      else if (st.isDirectory()) {
        out.set(rel, `dir ${(st.mode & 0o777).toString(8)}`);
        walk(abs);
      } else out.set(rel, `file ${(st.mode & 0o777).toString(8)} ${crypto.createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}`);
    }
  };
  walk(root);
  return out;
}

function tarOut(dir: string) {
  return spawn("tar", ["-cf", "-", "-C", dir, "."], { stdio: ["ignore", "pipe", "inherit"] });
}

test("a 50 MiB tree goes up and comes back down byte-identical", async () => {
  const src = path.join(tmp, "src");
  const total = makeTree(src);
  assert.ok(total > 50 * 1000 * 1000, `tree is ${total} bytes`);
  const dest = `${agent.workspace}/project`;

  // Upload: host tar → PUT /api/archive (chunked, streamed).
  const tar = tarOut(src);
  const up = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = http.request(`${agent.url}/api/archive?path=${encodeURIComponent(dest)}`, { method: "PUT", headers: { "content-type": "application/x-tar" } }, (res) => {
      let t = "";
      res.on("data", (c) => (t += c));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(t) }));
    });
    req.on("error", reject);
    pipeline(tar.stdout, req).catch(reject);
  });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  assert.equal(up.body.success, true);
  assert.ok(up.body.bytesReceived > total);
  const want = manifest(src);
  assert.deepEqual(manifest(dest), want);

  // Download: GET /api/archive → host tar extracting into a fresh directory.
  const back = path.join(tmp, "back");
  fs.mkdirSync(back);
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${agent.url}/api/archive?path=${encodeURIComponent(dest)}`, resolve).on("error", reject));
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers["content-type"], "application/x-tar");
  const untar = spawn("tar", ["-xf", "-", "-C", back], { stdio: ["pipe", "inherit", "inherit"] });
  const untarDone = new Promise<number | null>((r) => untar.once("close", r));
  await pipeline(res, untar.stdin);
  assert.equal(await untarDone, 0);
  assert.deepEqual(manifest(back), want);

  const mem = memoryOf(agent.pid);
  console.log(`# archive 50 MiB round trip: agent peak RSS ${(mem.hwm / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(mem.hwm < 160 * 1024 * 1024, `agent peak RSS ${mem.hwm}`);
});

test("gzip download, and coded errors for a bad archive, a file path and a missing directory", async () => {
  fs.mkdirSync(`${agent.workspace}/gz`, { recursive: true });
  fs.writeFileSync(`${agent.workspace}/gz/a.txt`, "hello gzip");
  const gz = await fetch(`${agent.url}/api/archive?path=gz&gzip=1`);
  assert.equal(gz.headers.get("content-type"), "application/gzip");
  const bytes = Buffer.from(await gz.arrayBuffer());
  assert.deepEqual([bytes[0], bytes[1]], [0x1f, 0x8b]);

  const bad = await fetch(`${agent.url}/api/archive?path=garbage-dest`, { method: "PUT", body: Buffer.alloc(4096, 7) });
  assert.equal(bad.status, 400);
  const badBody = (await bad.json()) as any;
  assert.equal(badBody.code, "VALIDATION_FAILED");
  assert.match(badBody.message, /^Cannot extract into /);

  const file = await fetch(`${agent.url}/api/archive?path=gz/a.txt`);
  assert.deepEqual([file.status, ((await file.json()) as any).code], [400, "NOT_DIRECTORY"]);
  const missing = await fetch(`${agent.url}/api/archive?path=no/such/dir`);
  assert.deepEqual([missing.status, ((await missing.json()) as any).code], [404, "FILE_NOT_FOUND"]);
});
