// Files API against a real agent process: CF-compatible routes, metadata, binary round trip, bad paths.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { SSEDecoder } from "@atoll/protocol";
import { postJson, startAgent, type TestAgent } from "./files-helper.js";

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A valid 4×4 RGB PNG, built by hand. */
function makePng(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4, 0);
  ihdr.writeUInt32BE(4, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw: number[] = [];
  for (let y = 0; y < 4; y++) {
    raw.push(0); // filter: none
    for (let x = 0; x < 4; x++) raw.push(x * 60, y * 60, 0);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", zlib.deflateSync(Buffer.from(raw))), chunk("IEND", Buffer.alloc(0))]);
}
let agent: TestAgent;
let ws: string;
const call = (route: string, body: unknown) => postJson(agent.url, route, body);

before(async () => {
  agent = await startAgent();
  ws = agent.workspace;
});
after(async () => {
  await agent?.stop();
});

describe("files API", () => {
  test("mkdir: recursive creates nested directories; non-recursive needs the parent", async () => {
    const r = await call("/api/mkdir", { path: `${ws}/m/a/b/c`, recursive: true });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.body.success, r.body.path, r.body.recursive], [true, `${ws}/m/a/b/c`, true]);
    assert.ok(fs.statSync(`${ws}/m/a/b/c`).isDirectory());
    const again = await call("/api/mkdir", { path: `${ws}/m/a/b/c`, recursive: true });
    assert.equal(again.status, 200, "recursive mkdir of an existing directory succeeds");
    const noParent = await call("/api/mkdir", { path: `${ws}/m/x/y` });
    assert.equal(noParent.status, 404);
    assert.equal(noParent.body.code, "FILE_NOT_FOUND");
    const exists = await call("/api/mkdir", { path: `${ws}/m/a` });
    assert.equal(exists.body.code, "FILE_EXISTS");
  });

  test("write/read utf-8, with parents created and relative paths under the workspace", async () => {
    const w = await call("/api/write", { path: "rel/dir/hello.txt", content: "héllo wörld\n" });
    assert.equal(w.status, 200, w.text);
    assert.equal(w.body.path, path.join(ws, "rel/dir/hello.txt"));
    assert.equal(fs.readFileSync(path.join(ws, "rel/dir/hello.txt"), "utf8"), "héllo wörld\n");
    const r = await call("/api/read", { path: `${ws}/rel/dir/hello.txt` });
    assert.equal(r.status, 200);
    assert.equal(r.body.content, "héllo wörld\n");
    assert.equal(r.body.encoding, "utf-8");
    assert.equal(r.body.isBinary, false);
    assert.equal(r.body.mimeType, "text/plain");
    assert.equal(r.body.size, Buffer.byteLength("héllo wörld\n"));
    const b64 = await call("/api/read", { path: `${ws}/rel/dir/hello.txt`, encoding: "base64" });
    assert.equal(Buffer.from(b64.body.content, "base64").toString("utf8"), "héllo wörld\n");
    const bad = await call("/api/write", { path: `${ws}/x.bin`, content: "not base64!!", encoding: "base64" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, "VALIDATION_FAILED");
  });

  test("binary PNG round trip is byte-identical through write, read, read/stream and raw", async () => {
    const png = makePng();
    const w = await call("/api/write", { path: `${ws}/img/pic.png`, content: png.toString("base64"), encoding: "base64" });
    assert.equal(w.status, 200, w.text);
    assert.ok(fs.readFileSync(`${ws}/img/pic.png`).equals(png));
    const r = await call("/api/read", { path: `${ws}/img/pic.png` });
    assert.equal(r.body.isBinary, true);
    assert.equal(r.body.encoding, "base64");
    assert.equal(r.body.mimeType, "image/png");
    assert.equal(r.body.size, png.length);
    assert.ok(Buffer.from(r.body.content, "base64").equals(png));
    // CF's SSE file stream: metadata, chunk…, complete.
    const s = await fetch(`${agent.url}/api/read/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: `${ws}/img/pic.png` }) });
    assert.equal(s.headers.get("content-type"), "text/event-stream");
    const events = new SSEDecoder().push(await s.text()) as any[];
    assert.deepEqual(events[0], { type: "metadata", mimeType: "image/png", size: png.length, isBinary: true, encoding: "base64" });
    const body = Buffer.concat(events.filter((e) => e.type === "chunk").map((e) => Buffer.from(e.data, "base64")));
    assert.ok(body.equals(png));
    assert.deepEqual(events.at(-1), { type: "complete", bytesRead: png.length });
    const raw = await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(`${ws}/img/pic.png`)}`);
    assert.equal(raw.headers.get("content-type"), "image/png");
    assert.equal(Number(raw.headers.get("content-length")), png.length);
    assert.ok(Buffer.from(await raw.arrayBuffer()).equals(png));
    const head = await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(`${ws}/img/pic.png`)}`, { method: "HEAD" });
    assert.deepEqual([head.status, Number(head.headers.get("content-length")), head.headers.get("x-atoll-binary")], [200, png.length, "1"]);
  });

  test("read/stream of text never splits a multibyte character", async () => {
    const text = "€".repeat(70_000); // 210 000 bytes: chunk boundaries fall inside characters
    fs.writeFileSync(`${ws}/euro.txt`, text);
    const s = await fetch(`${agent.url}/api/read/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: `${ws}/euro.txt` }) });
    const events = new SSEDecoder().push(await s.text()) as any[];
    assert.equal(events[0].encoding, "utf-8");
    assert.ok(events.filter((e) => e.type === "chunk").length > 1);
    assert.equal(events.filter((e) => e.type === "chunk").map((e) => e.data).join(""), text);
  });

  test("rename and move (mv semantics into a directory), then delete; directories are refused", async () => {
    fs.mkdirSync(`${ws}/rm/dest`, { recursive: true });
    fs.writeFileSync(`${ws}/rm/one.txt`, "1");
    const ren = await call("/api/rename", { oldPath: `${ws}/rm/one.txt`, newPath: `${ws}/rm/two.txt` });
    assert.equal(ren.status, 200, ren.text);
    assert.deepEqual([ren.body.path, ren.body.newPath], [`${ws}/rm/one.txt`, `${ws}/rm/two.txt`]);
    assert.ok(!fs.existsSync(`${ws}/rm/one.txt`) && fs.existsSync(`${ws}/rm/two.txt`));
    const mv = await call("/api/move", { sourcePath: `${ws}/rm/two.txt`, destinationPath: `${ws}/rm/dest` });
    assert.equal(mv.status, 200, mv.text);
    assert.equal(mv.body.newPath, `${ws}/rm/dest/two.txt`);
    assert.equal(fs.readFileSync(`${ws}/rm/dest/two.txt`, "utf8"), "1");
    const missing = await call("/api/rename", { oldPath: `${ws}/rm/nope`, newPath: `${ws}/rm/x` });
    assert.equal(missing.body.code, "FILE_NOT_FOUND");
    const dir = await call("/api/delete", { path: `${ws}/rm/dest` });
    assert.equal(dir.status, 400);
    assert.equal(dir.body.code, "IS_DIRECTORY");
    assert.match(dir.body.message, /^Cannot delete .*: it is a directory/);
    assert.ok(fs.existsSync(`${ws}/rm/dest/two.txt`), "a refused delete leaves the directory alone");
    const del = await call("/api/delete", { path: `${ws}/rm/dest/two.txt` });
    assert.equal(del.status, 200);
    assert.ok(!fs.existsSync(`${ws}/rm/dest/two.txt`));
    const again = await call("/api/delete", { path: `${ws}/rm/dest/two.txt` });
    assert.equal(again.body.code, "FILE_NOT_FOUND");
  });

  test("move across filesystems (tmpfs → workspace) copies and removes the source", async (t) => {
    if (fs.statSync("/dev/shm").dev === fs.statSync(ws).dev) return t.skip("/dev/shm is on the workspace's filesystem");
    const src = fs.mkdtempSync("/dev/shm/atoll-move-");
    try {
      fs.mkdirSync(`${src}/d/e`, { recursive: true });
      fs.writeFileSync(`${src}/d/e/f.txt`, "across");
      fs.symlinkSync("e/f.txt", `${src}/d/link`);
      const r = await call("/api/move", { sourcePath: `${src}/d`, destinationPath: `${ws}/moved` });
      assert.equal(r.status, 200, r.text);
      assert.equal(fs.readFileSync(`${ws}/moved/e/f.txt`, "utf8"), "across");
      assert.equal(fs.readlinkSync(`${ws}/moved/link`), "e/f.txt");
      assert.ok(!fs.existsSync(`${src}/d`));
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  test("list-files: metadata, recursive and includeHidden", async () => {
    const d = `${ws}/ls`;
    fs.mkdirSync(`${d}/sub/deep`, { recursive: true });
    fs.mkdirSync(`${d}/.hiddendir`);
    fs.writeFileSync(`${d}/a.txt`, "abc");
    fs.writeFileSync(`${d}/run.sh`, "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(`${d}/.secret`, "s");
    fs.writeFileSync(`${d}/sub/deep/z.txt`, "zz");
    fs.writeFileSync(`${d}/.hiddendir/h.txt`, "h");
    fs.symlinkSync("a.txt", `${d}/link`);

    const flat = await call("/api/list-files", { path: d });
    assert.equal(flat.status, 200, flat.text);
    const names = flat.body.files.map((f: any) => f.name).sort();
    assert.deepEqual(names, ["a.txt", "link", "run.sh", "sub"]);
    assert.equal(flat.body.count, 4);
    const a = flat.body.files.find((f: any) => f.name === "a.txt");
    assert.deepEqual({ ...a, modifiedAt: undefined }, {
      name: "a.txt", absolutePath: `${d}/a.txt`, relativePath: "a.txt", type: "file", size: 3, modifiedAt: undefined,
      mode: "rw-r--r--", permissions: { readable: true, writable: true, executable: false },
    });
    assert.ok(Math.abs(Date.parse(a.modifiedAt) - fs.statSync(`${d}/a.txt`).mtimeMs) < 2);
    const sh = flat.body.files.find((f: any) => f.name === "run.sh");
    assert.equal(sh.mode, "rwxr-xr-x");
    assert.equal(sh.permissions.executable, true);
    assert.equal(flat.body.files.find((f: any) => f.name === "sub").type, "directory");
    assert.equal(flat.body.files.find((f: any) => f.name === "link").type, "symlink");

    const rec = await call("/api/list-files", { path: d, options: { recursive: true } });
    const recRel = rec.body.files.map((f: any) => f.relativePath).sort();
    assert.deepEqual(recRel, ["a.txt", "link", "run.sh", "sub", "sub/deep", "sub/deep/z.txt"]);

    const hid = await call("/api/list-files", { path: d, options: { recursive: true, includeHidden: true } });
    const hidRel = hid.body.files.map((f: any) => f.relativePath).sort();
    assert.deepEqual(hidRel, [".hiddendir", ".hiddendir/h.txt", ".secret", "a.txt", "link", "run.sh", "sub", "sub/deep", "sub/deep/z.txt"]);

    const notDir = await call("/api/list-files", { path: `${d}/a.txt` });
    assert.equal(notDir.body.code, "NOT_DIRECTORY");
    const missing = await call("/api/list-files", { path: `${d}/nope` });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "FILE_NOT_FOUND");
  });

  test("exists", async () => {
    fs.writeFileSync(`${ws}/ex.txt`, "x");
    assert.equal((await call("/api/exists", { path: `${ws}/ex.txt` })).body.exists, true);
    assert.equal((await call("/api/exists", { path: ws })).body.exists, true);
    assert.equal((await call("/api/exists", { path: `${ws}/nope` })).body.exists, false);
    assert.equal((await call("/api/exists", { path: `${ws}/ex.txt/below` })).body.exists, false);
  });

  test("bad input: NUL bytes are INVALID_PATH (400) everywhere; bad JSON and missing fields are coded 400s", async () => {
    for (const [route, body] of [
      ["/api/read", { path: `${ws}/a\u0000b` }],
      ["/api/write", { path: `${ws}/a\u0000b`, content: "x" }],
      ["/api/mkdir", { path: `${ws}/a\u0000b`, recursive: true }],
      ["/api/delete", { path: `\u0000` }],
      ["/api/rename", { oldPath: `${ws}/ex.txt`, newPath: `${ws}/a\u0000b` }],
      ["/api/move", { sourcePath: `${ws}/a\u0000b`, destinationPath: ws }],
      ["/api/list-files", { path: `${ws}\u0000` }],
      ["/api/exists", { path: `${ws}/\u0000` }],
      ["/api/read/stream", { path: `${ws}/a\u0000b` }],
      ["/api/watch", { path: `${ws}/a\u0000b` }],
      ["/api/git/checkout", { repoUrl: "https://127.0.0.1:1/r.git", targetDir: `${ws}/a\u0000b` }],
    ] as const) {
      const r = await call(route, body);
      assert.equal(r.status, 400, `${route}: ${r.text}`);
      assert.equal(r.body.code, "INVALID_PATH", route);
    }
    for (const route of ["/api/files/raw", "/api/archive"]) {
      const r = await fetch(`${agent.url}${route}?path=${encodeURIComponent(`${ws}/a\u0000b`)}`);
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as any).code, "INVALID_PATH");
    }
    const badJson = await call("/api/read", "{not json");
    assert.deepEqual([badJson.status, badJson.body.code], [400, "INVALID_JSON"]);
    const noPath = await call("/api/read", {});
    assert.deepEqual([noPath.status, noPath.body.code], [400, "VALIDATION_FAILED"]);
    const dirRead = await call("/api/read", { path: ws });
    assert.deepEqual([dirRead.status, dirRead.body.code], [400, "IS_DIRECTORY"]);
    // FIFOs would block an open(): refused up front. Pseudo-files (size 0) are read to EOF.
    execFileSync("mkfifo", [`${ws}/fifo`]);
    for (const route of ["/api/read", "/api/read/stream", "/api/write"]) {
      const r = await call(route, { path: `${ws}/fifo`, content: "x" });
      assert.deepEqual([r.status, r.body.code], [400, "VALIDATION_FAILED"], route);
    }
    const fifoRaw = await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(`${ws}/fifo`)}`);
    assert.equal(fifoRaw.status, 400);
    const version = fs.readFileSync("/proc/version", "utf8");
    assert.equal((await call("/api/read", { path: "/proc/version" })).body.content, version);
    assert.equal(await (await fetch(`${agent.url}/api/files/raw?path=/proc/version`)).text(), version);
    // The agent is still serving.
    assert.equal((await fetch(`${agent.url}/api/ping`)).status, 200);
  });
});
