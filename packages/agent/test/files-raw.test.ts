// Raw upload/download of 100 MiB through a real agent: sha256 equal both ways, agent memory bounded.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { memoryOf, startAgent, type TestAgent } from "./files-helper.js";

const SIZE = 100 * 1024 * 1024;
/** Peak RSS the agent may reach while moving 100 MiB (Node itself is ~45 MiB). */
const RSS_LIMIT = 160 * 1024 * 1024;

let agent: TestAgent;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent?.stop();
});

/** 100 MiB of pseudo-random bytes, generated on the fly, hashed as they go. */
function source(hash: crypto.Hash): Readable {
  let sent = 0;
  const block = crypto.randomBytes(1024 * 1024);
  return new Readable({
    read() {
      if (sent >= SIZE) return this.push(null);
      block.writeUInt32LE(sent, 0); // every MiB differs
      const chunk = Buffer.from(block);
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
}

function upload(path: string, body: Readable): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${agent.url}/api/files/raw?path=${encodeURIComponent(path)}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", "content-length": SIZE },
    }, (res) => {
      let t = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (t += c));
      res.on("end", () => resolve({ status: res.statusCode!, json: JSON.parse(t) }));
    });
    req.on("error", reject);
    pipeline(body, req).catch(reject);
  });
}

test("100 MiB raw upload and download: identical sha256, bounded agent memory", async () => {
  const target = `${agent.workspace}/big/data.bin`;
  const upHash = crypto.createHash("sha256");
  let t0 = process.hrtime.bigint();
  const up = await upload(target, source(upHash));
  const upMs = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(up.status, 200, JSON.stringify(up.json));
  assert.deepEqual([up.json.success, up.json.path, up.json.bytesWritten], [true, target, SIZE]);
  const expected = upHash.digest("hex");
  assert.equal(fs.statSync(target).size, SIZE);
  // The temp file was renamed into place: nothing else is left in the directory.
  assert.deepEqual(fs.readdirSync(`${agent.workspace}/big`), ["data.bin"]);

  t0 = process.hrtime.bigint();
  const downHash = crypto.createHash("sha256");
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get(`${agent.url}/api/files/raw?path=${encodeURIComponent(target)}`, resolve).on("error", reject));
  assert.equal(res.statusCode, 200);
  assert.equal(Number(res.headers["content-length"]), SIZE);
  assert.equal(res.headers["content-type"], "application/octet-stream");
  let got = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    downHash.update(c);
    got += c.length;
  }
  const downMs = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(got, SIZE);
  assert.equal(downHash.digest("hex"), expected);

  const mem = memoryOf(agent.pid);
  console.log(`# raw 100 MiB: upload ${(100 / (upMs / 1000)).toFixed(0)} MiB/s, download ${(100 / (downMs / 1000)).toFixed(0)} MiB/s, agent peak RSS ${(mem.hwm / 2 ** 20).toFixed(0)} MiB`);
  assert.ok(mem.hwm < RSS_LIMIT, `agent peak RSS ${mem.hwm} bytes is over ${RSS_LIMIT}`);
});

test("an upload cut short leaves no file behind and the agent keeps serving", async () => {
  const dir = `${agent.workspace}/cut`;
  const target = `${dir}/part.bin`;
  fs.mkdirSync(dir);
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 250 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(cond(), `timed out waiting until ${what}`);
  };
  const req = http.request(`${agent.url}/api/files/raw?path=${encodeURIComponent(target)}`, { method: "PUT", headers: { "content-length": 10 * 1024 * 1024 } });
  req.on("error", () => {});
  req.write(Buffer.alloc(1024 * 1024));
  // The agent streams into a temporary file next to the target; abort once it exists.
  await until(() => fs.readdirSync(dir).length > 0, "the upload's temp file appears");
  assert.ok(!fs.existsSync(target), "the target only appears when the upload completes");
  req.destroy();
  await until(() => fs.readdirSync(dir).length === 0, "the temp file is removed");
  assert.deepEqual(fs.readdirSync(`${agent.workspace}/cut`), []);
  const r = await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(target)}`);
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as any).code, "FILE_NOT_FOUND");
  const onDir = await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(agent.workspace)}`, { method: "PUT", body: "x" });
  assert.equal(((await onDir.json()) as any).code, "IS_DIRECTORY");
});
