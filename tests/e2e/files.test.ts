// Files API in a real sandbox through the control plane (/v1/sandboxes/:id/api/*): CF routes,
// binary round trip, 100 MiB raw transfer, a directory tree through the archive routes, and watch.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { SSEDecoder } from "@atoll/protocol";
import { createSandbox, startAtoll, type Atoll } from "./harness.js";

const ID = "e2e-files";
let atoll: Atoll;
let tmp: string;
const api = (route: string, body: unknown) => atoll.json("POST", `/v1/sandboxes/${ID}/api${route}`, body);
const sh = async (command: string) => {
  const r = await api("/execute", { command, timeoutMs: 60_000 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as { exitCode: number; stdout: string; stderr: string };
};

/** Raw node:http request to the control plane (streams both ways, no fetch buffering). */
function request(method: string, route: string, body?: Readable, headers: Record<string, string | number> = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${atoll.url}/v1/sandboxes/${ID}/api${route}`, { method, headers: { authorization: `Bearer ${atoll.apiKey}`, ...headers } }, resolve);
    req.on("error", reject);
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}
async function readAll(res: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-e2e-files-"));
  atoll = await startAtoll();
  await createSandbox(atoll, ID);
});
after(async () => {
  await atoll?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("files in a real sandbox", () => {
  test("mkdir, write, read, list, move, delete; directories refused; NUL → 400", async () => {
    assert.equal((await api("/mkdir", { path: "/workspace/p/q/r", recursive: true })).status, 200);
    const w = await api("/write", { path: "p/q/r/a.txt", content: "héllo" });
    assert.equal(w.status, 200);
    assert.equal(w.body.path, "/workspace/p/q/r/a.txt", "relative paths resolve against /workspace");
    const r = await api("/read", { path: "/workspace/p/q/r/a.txt" });
    assert.deepEqual([r.body.content, r.body.encoding, r.body.mimeType], ["héllo", "utf-8", "text/plain"]);
    const ls = await api("/list-files", { path: "/workspace/p", options: { recursive: true } });
    assert.deepEqual(ls.body.files.map((f: any) => f.relativePath), ["q", "q/r", "q/r/a.txt"]);
    const file = ls.body.files[2];
    assert.deepEqual([file.type, file.size, file.mode, file.permissions.writable], ["file", 6, "rw-r--r--", true]);
    const mv = await api("/move", { sourcePath: "/workspace/p/q/r/a.txt", destinationPath: "/workspace/p" });
    assert.equal(mv.body.newPath, "/workspace/p/a.txt");
    const del = await api("/delete", { path: "/workspace/p/q" });
    assert.deepEqual([del.status, del.body.code], [400, "IS_DIRECTORY"]);
    assert.equal((await api("/delete", { path: "/workspace/p/a.txt" })).status, 200);
    assert.equal((await api("/exists", { path: "/workspace/p/a.txt" })).body.exists, false);
    const nul = await api("/read", { path: "/workspace/a\u0000b" });
    assert.deepEqual([nul.status, nul.body.code], [400, "INVALID_PATH"]);
    const missing = await api("/read", { path: "/nope/x" });
    assert.deepEqual([missing.status, missing.body.code], [404, "FILE_NOT_FOUND"]);
  });

  test("binary file: base64 write, read back as base64 image/png, raw download identical", async () => {
    // A PNG signature plus arbitrary bytes is enough for type detection.
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), crypto.randomBytes(3000)]);
    assert.equal((await api("/write", { path: "/workspace/img.png", content: png.toString("base64"), encoding: "base64" })).status, 200);
    const r = await api("/read", { path: "/workspace/img.png" });
    assert.deepEqual([r.body.isBinary, r.body.encoding, r.body.mimeType, r.body.size], [true, "base64", "image/png", png.length]);
    assert.ok(Buffer.from(r.body.content, "base64").equals(png));
    const res = await request("GET", `/files/raw?path=/workspace/img.png`);
    assert.equal(res.headers["content-type"], "image/png");
    assert.ok((await readAll(res)).equals(png));
    const s = await atoll.api(`/v1/sandboxes/${ID}/api/read/stream`, { method: "POST", json: { path: "/workspace/img.png" } });
    const events = new SSEDecoder().push(await s.text()) as any[];
    assert.equal(events[0].type, "metadata");
    assert.ok(Buffer.concat(events.filter((e) => e.type === "chunk").map((e) => Buffer.from(e.data, "base64"))).equals(png));
  });

  test("100 MiB raw upload and download through the control plane: sha256 equal, agent memory bounded", async () => {
    const SIZE = 100 * 1024 * 1024;
    const upHash = crypto.createHash("sha256");
    const block = crypto.randomBytes(1024 * 1024);
    let sent = 0;
    const src = new Readable({
      read() {
        if (sent >= SIZE) return this.push(null);
        block.writeUInt32LE(sent, 0);
        const c = Buffer.from(block);
        upHash.update(c);
        sent += c.length;
        this.push(c);
      },
    });
    let t0 = Date.now();
    const up = await request("PUT", "/files/raw?path=/workspace/big/data.bin", src, { "content-length": SIZE });
    const upBody = JSON.parse((await readAll(up)).toString());
    const upMs = Date.now() - t0;
    assert.equal(up.statusCode, 200, JSON.stringify(upBody));
    assert.equal(upBody.bytesWritten, SIZE);
    const inside = await sh("sha256sum /workspace/big/data.bin | cut -d' ' -f1");
    const expected = upHash.digest("hex");
    assert.equal(inside.stdout.trim(), expected);

    t0 = Date.now();
    const down = await request("GET", "/files/raw?path=/workspace/big/data.bin");
    assert.equal(Number(down.headers["content-length"]), SIZE);
    const h = crypto.createHash("sha256");
    let got = 0;
    for await (const c of down as AsyncIterable<Buffer>) {
      h.update(c);
      got += c.length;
    }
    const downMs = Date.now() - t0;
    assert.equal(got, SIZE);
    assert.equal(h.digest("hex"), expected);
    // Peak RSS of the agent process inside the sandbox.
    const hwm = await sh("for p in /proc/[0-9]*; do if tr '\\0' ' ' < $p/cmdline 2>/dev/null | grep -q 'agent.mjs'; then grep VmHWM $p/status; fi; done | awk '{print $2}' | sort -n | tail -1");
    const peakMiB = Number(hwm.stdout.trim()) / 1024;
    console.log(`# e2e raw 100 MiB: upload ${(100000 / upMs).toFixed(0)} MiB/s, download ${(100000 / downMs).toFixed(0)} MiB/s, agent peak RSS ${peakMiB.toFixed(0)} MiB`);
    assert.ok(peakMiB > 0 && peakMiB < 200, `agent peak RSS ${peakMiB} MiB`);
    await sh("rm -rf /workspace/big");
  });

  test("a directory tree through the archive routes comes back identical", async () => {
    const src = path.join(tmp, "tree");
    for (let d = 0; d < 5; d++) {
      fs.mkdirSync(path.join(src, `d${d}/sub`), { recursive: true });
      for (let f = 0; f < 10; f++) fs.writeFileSync(path.join(src, `d${d}/sub/f${f}.bin`), crypto.randomBytes(50_000 + f));
    }
    fs.writeFileSync(path.join(src, "run.sh"), "#!/bin/sh\necho ok\n", { mode: 0o755 });
    const tar = spawn("tar", ["-cf", "-", "-C", src, "."], { stdio: ["ignore", "pipe", "inherit"] });
    const up = await request("PUT", "/archive?path=/workspace/tree", tar.stdout as Readable, { "content-type": "application/x-tar" });
    assert.equal(up.statusCode, 200, (await readAll(up)).toString());
    assert.equal((await sh("/workspace/tree/run.sh")).stdout, "ok\n");
    const sums = await sh("cd /workspace/tree && find . -type f | sort | xargs sha256sum");
    const local = await new Promise<string>((resolve) => {
      const p = spawn("sh", ["-c", "find . -type f | sort | xargs sha256sum"], { cwd: src });
      let out = "";
      p.stdout.on("data", (c) => (out += c));
      p.on("close", () => resolve(out));
    });
    assert.equal(sums.stdout, local);
    const back = path.join(tmp, "back");
    fs.mkdirSync(back);
    const down = await request("GET", "/archive?path=/workspace/tree");
    assert.equal(down.statusCode, 200);
    const untar = spawn("tar", ["-xf", "-", "-C", back], { stdio: ["pipe", "inherit", "inherit"] });
    const done = new Promise((r) => untar.once("close", r));
    await pipeline(down, untar.stdin);
    assert.equal(await done, 0);
    for (const rel of ["d0/sub/f0.bin", "d4/sub/f9.bin", "run.sh"]) assert.ok(fs.readFileSync(path.join(back, rel)).equals(fs.readFileSync(path.join(src, rel))), rel);
  });

  test("watch streams nested events through the control plane", async () => {
    await sh("mkdir -p /workspace/watched");
    const events: any[] = [];
    const dec = new SSEDecoder();
    const res = await request("POST", "/watch", Readable.from([JSON.stringify({ path: "/workspace/watched" })]), { "content-type": "application/json" });
    assert.equal(res.statusCode, 200);
    let wake: (() => void) | null = null;
    res.on("data", (c: Buffer) => {
      events.push(...dec.push(c.toString()));
      wake?.();
    });
    const next = async (): Promise<any> => {
      const deadline = Date.now() + 10_000;
      while (events.length === 0) {
        assert.ok(Date.now() < deadline, "timed out waiting for a watch event");
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1000);
          wake = () => (clearTimeout(t), r());
        });
      }
      return events.shift();
    };
    try {
      assert.equal((await next()).type, "ready");
      await sh("mkdir /workspace/watched/n && touch /workspace/watched/n/f.txt");
      const seen: string[] = [];
      while (!seen.includes("create /workspace/watched/n/f.txt")) {
        const ev = await next();
        seen.push(`${ev.type} ${ev.path}`);
      }
      assert.deepEqual(seen, ["create /workspace/watched/n", "create /workspace/watched/n/f.txt"]);
      await sh("rm /workspace/watched/n/f.txt");
      const del = await next();
      assert.deepEqual([del.type, del.path], ["delete", "/workspace/watched/n/f.txt"]);
    } finally {
      res.destroy();
    }
  });
});
