// Control plane against real sandboxes (oci driver, crun, netns, agent): get-or-create races,
// list/get/destroy (nothing left on the host), auth, and forwarding of exec, streamed exec and
// 100 MiB raw file transfers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startAtoll, exec, hostResources, leftovers, type Atoll } from "./harness.js";

let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});

test("10 concurrent PUTs for a new id make one sandbox; envVars reach commands", { timeout: 120_000 }, async () => {
  const rs = await Promise.all(Array.from({ length: 10 }, () => atoll.json("PUT", "/v1/sandboxes/cp-race", { envVars: { GREETING: "hello-atoll" } })));
  assert.deepEqual(rs.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 201], JSON.stringify(rs.map((r) => r.body)).slice(0, 500));
  assert.equal(rs.filter((r) => r.body.created).length, 1);
  const list = await atoll.json("GET", "/v1/sandboxes");
  assert.deepEqual(list.body.sandboxes.map((s: any) => s.id), ["cp-race"]);
  const r = await exec(atoll, "cp-race", "echo $GREETING");
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.stdout, "hello-atoll\n");
  assert.equal(r.exitCode, 0);
});

test("streamed exec arrives event by event through the control plane", { timeout: 120_000 }, async () => {
  await atoll.json("PUT", "/v1/sandboxes/cp-race", {});
  const t0 = Date.now();
  const res = await atoll.api("/v1/sandboxes/cp-race/api/execute/stream", { method: "POST", json: { command: "for i in 1 2 3; do echo line$i; sleep 0.4; done" } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const arrivals: { at: number; type: string; data?: string }[] = [];
  let buf = "";
  for await (const chunk of res.body as any as AsyncIterable<Uint8Array>) {
    buf += Buffer.from(chunk).toString();
    let i: number;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const line = frame.split("\n").find((l) => l.startsWith("data: "));
      if (line) arrivals.push({ at: Date.now() - t0, ...JSON.parse(line.slice(6)) });
    }
  }
  const out = arrivals.filter((a) => a.type === "stdout");
  assert.deepEqual(out.map((a) => a.data), ["line1\n", "line2\n", "line3\n"]);
  assert.equal(arrivals.at(-1)!.type, "complete");
  // flushed per event: line1 long before line3
  assert.ok(out[2]!.at - out[0]!.at >= 600, `events were not streamed: ${JSON.stringify(arrivals)}`);
});

test("100 MiB raw upload and download stream through intact", { timeout: 120_000 }, async () => {
  const size = 100 * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  const want = createHash("sha256");
  for (let i = 0; i < 100; i++) want.update(block);
  const wantHex = want.digest("hex");
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      sent += block.length;
      c.enqueue(block);
    },
  });
  const up = await atoll.api("/v1/sandboxes/cp-race/api/files/raw?path=/workspace/big.bin", { method: "PUT", body });
  assert.equal(up.status, 200, await up.clone().text());
  assert.equal(((await up.json()) as any).bytesWritten, size);
  const down = await atoll.api("/v1/sandboxes/cp-race/api/files/raw?path=/workspace/big.bin");
  assert.equal(down.status, 200);
  const got = createHash("sha256");
  let n = 0;
  for await (const c of down.body as any as AsyncIterable<Uint8Array>) {
    got.update(c);
    n += c.length;
  }
  assert.equal(n, size);
  assert.equal(got.digest("hex"), wantHex);
  await exec(atoll, "cp-race", "rm -f /workspace/big.bin");
});

test("get and destroy; destroy leaves nothing on the host", { timeout: 120_000 }, async () => {
  const put = await atoll.json("PUT", "/v1/sandboxes/cp-gone", { limits: { memoryMiB: 256 } });
  assert.equal(put.status, 201, JSON.stringify(put.body));
  const res = await hostResources(atoll.dataDir, "cp-gone");
  assert.ok(leftovers(res).length > 0, "a running sandbox should have host resources");
  const g = await atoll.json("GET", "/v1/sandboxes/cp-gone");
  assert.equal(g.body.status, "running");
  assert.equal(g.body.limits.memoryMiB, 256);
  const d = await atoll.json("DELETE", "/v1/sandboxes/cp-gone");
  assert.deepEqual(d.body, { success: true, id: "cp-gone" });
  assert.deepEqual(leftovers(res), []);
  assert.equal((await atoll.json("GET", "/v1/sandboxes/cp-gone")).body.code, "SANDBOX_NOT_FOUND");
  assert.equal((await exec(atoll, "cp-gone", "true")).status, 404);
});

test("auth: no key, wrong key and the key in the wrong scheme are 401; health is public", { timeout: 120_000 }, async () => {
  const h = await fetch(atoll.url + "/v1/health");
  assert.equal(h.status, 200);
  for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: atoll.apiKey }, { authorization: `Basic ${atoll.apiKey}` }]) {
    const r = await atoll.json("GET", "/v1/sandboxes", undefined, { headers: headers as Record<string, string>, noAuth: true });
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.body.code, "UNAUTHORIZED");
  }
  const fwd = await atoll.json("POST", "/v1/sandboxes/cp-race/api/execute", { command: "true" }, { noAuth: true });
  assert.equal(fwd.status, 401);
});
