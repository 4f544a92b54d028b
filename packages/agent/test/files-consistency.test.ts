// Torn reads and atomic writes (issue 16, "Weak"): through a real agent process,
// - concurrent /api/write and raw PUT of the same file while others read it: every read is
//   exactly one of the written versions (writes replace the file atomically);
// - a process that rewrites the file IN PLACE (truncate + write, not atomic) while clients read:
//   every complete 200 is exactly one version (or the empty file of the truncated moment); the
//   other outcomes are a coded RESOURCE_BUSY, an SSE error event, or — only for files over 8 MiB
//   streamed by GET /api/files/raw — a cut body. Never a complete 200 that mixes versions.
// - writes keep the replaced file's owner and mode, keep a symlink a symlink, leave no temp files.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { SSEDecoder } from "@atoll/protocol";
import { postJson, startAgent, type TestAgent } from "./files-helper.js";

let agent: TestAgent;
before(async () => {
  agent = await startAgent();
});
after(async () => {
  await agent?.stop();
});

type Outcome = "ok" | "busy" | "cut" | "torn";
/** What each torn read looked like (route, status, length, distinct characters), for the failure message. */
const tornDetails: string[] = [];
function torn(route: string, status: number, body: string, extra = ""): Outcome {
  tornDetails.push(`${route} ${status} len=${body.length} chars=${[...new Set(body)].join("").slice(0, 10)} ${extra}`.trim());
  return "torn";
}

/** GET /api/files/raw → outcome against the allowed versions. */
function rawGet(p: string, versions: Set<string>): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.get(`${agent.url}/api/files/raw?path=${encodeURIComponent(p)}`, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("error", () => resolve("cut"));
      res.on("aborted", () => resolve("cut"));
      res.on("end", () => {
        const body = Buffer.concat(parts).toString("latin1");
        if (res.statusCode === 409 && JSON.parse(body).code === "RESOURCE_BUSY") return resolve("busy");
        if (!res.complete || body.length !== Number(res.headers["content-length"])) return resolve("cut");
        resolve(res.statusCode === 200 && versions.has(body) ? "ok" : torn("raw", res.statusCode ?? 0, body));
      });
    });
    req.on("error", () => resolve("cut"));
  });
}

async function jsonRead(p: string, versions: Set<string>): Promise<Outcome> {
  const r = await postJson(agent.url, "/api/read", { path: p, encoding: "utf-8" });
  if (r.status === 409 && r.body?.code === "RESOURCE_BUSY") return "busy";
  return r.status === 200 && versions.has(r.body.content) ? "ok" : torn("read", r.status, String(r.body?.content ?? r.text));
}

async function sseRead(p: string, versions: Set<string>): Promise<Outcome> {
  const res = await fetch(`${agent.url}/api/read/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: p }) });
  if (res.status === 409) return ((await res.json()) as { code?: string }).code === "RESOURCE_BUSY" ? "busy" : torn("sse", 409, "");
  const dec = new SSEDecoder();
  let content = "";
  let end: any = null;
  for (const ev of dec.push(await res.text()) as any[]) {
    if (ev.type === "chunk") content += ev.data;
    else if (ev.type === "complete" || ev.type === "error") end = ev;
  }
  if (end?.type === "error" && end.code === "RESOURCE_BUSY") return "busy";
  return end?.type === "complete" && versions.has(content) ? "ok" : torn("sse", res.status, content, JSON.stringify(end).slice(0, 200));
}

/** A separate process that rewrites `file` in place (O_TRUNC + write), alternating `a` and `b` (one repeated character each). */
function inPlaceRewriter(file: string, a: string, b: string): ChildProcess {
  const gen = (s: string) => `${JSON.stringify(s[0] ?? "")}.repeat(${s.length})`;
  const script = `const fs = require("fs"); const v = [${gen(a)}, ${gen(b)}]; let i = 0;
    const t = Date.now(); while (Date.now() - t < 60000) fs.writeFileSync(${JSON.stringify(file)}, v[i++ % 2]);`;
  return spawn(process.execPath, ["-e", script], { stdio: "ignore" });
}

function tally(outcomes: Outcome[]): Record<Outcome, number> {
  const t: Record<Outcome, number> = { ok: 0, busy: 0, cut: 0, torn: 0 };
  for (const o of outcomes) t[o]++;
  return t;
}

test("8 clients writing and reading the same file: every read is exactly one written version", async () => {
  const p = `${agent.workspace}/shared.txt`;
  const version = (c: number, i: number) => `${c}:${i}:`.padEnd(c % 2 ? 4096 : 3000, String.fromCharCode(97 + c));
  const versions = new Set<string>();
  for (let c = 0; c < 8; c++) for (let i = 0; i < 60; i++) versions.add(version(c, i));
  await postJson(agent.url, "/api/write", { path: p, content: version(0, 0) });
  const outcomes: Outcome[] = [];
  const failures: string[] = [];
  await Promise.all(Array.from({ length: 8 }, async (_, c) => {
    for (let i = 0; i < 60; i++) {
      // half the writers use the JSON route, half the raw upload
      const w = c % 2
        ? await postJson(agent.url, "/api/write", { path: p, content: version(c, i) })
        : { status: (await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(p)}`, { method: "PUT", body: version(c, i) })).status };
      if (w.status !== 200) failures.push(`write ${c}/${i}: ${w.status}`);
      outcomes.push(await (i % 3 === 0 ? rawGet(p, versions) : i % 3 === 1 ? jsonRead(p, versions) : sseRead(p, versions)));
    }
  }));
  const t = tally(outcomes);
  console.log(`# atomic writes: ${outcomes.length} reads, ${JSON.stringify(t)}`);
  assert.deepEqual(failures, []);
  assert.deepEqual(t, { ok: 480, busy: 0, cut: 0, torn: 0 }, tornDetails.join("\n"));
  assert.deepEqual(fs.readdirSync(agent.workspace).filter((n) => n.includes("atoll-")), [], "temporary files left behind");
});

test("a file rewritten in place while read: a small file is one version or RESOURCE_BUSY, never torn or cut", async () => {
  const p = `${agent.workspace}/inplace-small.txt`;
  const a = "A".repeat(4096);
  const b = "b".repeat(2000);
  fs.writeFileSync(p, a);
  const w = inPlaceRewriter(p, a, b);
  try {
    const versions = new Set([a, b, ""]); // "" is the real content between O_TRUNC and write
    const outcomes: Outcome[] = [];
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; i < 40; i++) outcomes.push(await ((c + i) % 3 === 0 ? rawGet(p, versions) : (c + i) % 3 === 1 ? jsonRead(p, versions) : sseRead(p, versions)));
    }));
    const t = tally(outcomes);
    console.log(`# in-place 4 KiB: ${outcomes.length} reads, ${JSON.stringify(t)}`);
    assert.equal(t.torn, 0, tornDetails.join("\n"));
    assert.equal(t.cut, 0);
  } finally {
    w.kill("SIGKILL");
  }
});

test("a file over 8 MiB rewritten in place while downloaded: complete bodies are one version; the rest is cut or a coded error", async () => {
  const p = `${agent.workspace}/inplace-big.bin`;
  const a = "A".repeat(10 * 1024 * 1024);
  const b = "b".repeat(9 * 1024 * 1024);
  fs.writeFileSync(p, a);
  const w = inPlaceRewriter(p, a, b);
  try {
    const versions = new Set([a, b, ""]); // "" is the real content between O_TRUNC and write
    const outcomes: Outcome[] = [];
    await Promise.all(Array.from({ length: 4 }, async (_, c) => {
      for (let i = 0; i < 6; i++) outcomes.push(await (i % 2 === 0 ? rawGet(p, versions) : sseRead(p, versions)));
    }));
    const t = tally(outcomes);
    console.log(`# in-place 10 MiB: ${outcomes.length} reads, ${JSON.stringify(t)}`);
    assert.equal(t.torn, 0, tornDetails.join("\n"));
  } finally {
    w.kill("SIGKILL");
  }
});

test("writes keep the replaced file's owner and mode, follow a symlink, and a failed upload changes nothing", async () => {
  const p = `${agent.workspace}/kept.txt`;
  fs.writeFileSync(p, "old");
  fs.chmodSync(p, 0o640);
  fs.chownSync(p, 1234, 2345);
  assert.equal((await postJson(agent.url, "/api/write", { path: p, content: "new" })).status, 200);
  let st = fs.statSync(p);
  assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, fs.readFileSync(p, "utf8")], [0o640, 1234, 2345, "new"]);
  fs.chmodSync(p, 0o4755); // setuid survives the chown that the replacement needs
  const put = await fetch(`${agent.url}/api/files/raw?path=${encodeURIComponent(p)}`, { method: "PUT", body: "newer" });
  assert.equal(put.status, 200);
  st = fs.statSync(p);
  assert.deepEqual([st.mode & 0o7777, st.uid, st.gid, fs.readFileSync(p, "utf8")], [0o4755, 1234, 2345, "newer"]);

  fs.symlinkSync("kept.txt", `${agent.workspace}/link.txt`);
  assert.equal((await postJson(agent.url, "/api/write", { path: `${agent.workspace}/link.txt`, content: "via link" })).status, 200);
  assert.equal(fs.readlinkSync(`${agent.workspace}/link.txt`), "kept.txt");
  assert.equal(fs.readFileSync(p, "utf8"), "via link");

  // a body shorter than its content-length: the old content stays, no temp file remains
  const short = await new Promise<number>((resolve) => {
    const req = http.request(`${agent.url}/api/files/raw?path=${encodeURIComponent(p)}`, { method: "PUT", headers: { "content-length": "100" } }, (res) => resolve(res.statusCode ?? 0));
    req.on("error", () => resolve(-1));
    req.write("partial");
    setTimeout(() => req.destroy(), 200);
  });
  assert.notEqual(short, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(fs.readFileSync(p, "utf8"), "via link");
  assert.deepEqual(fs.readdirSync(path.dirname(p)).filter((n) => n.includes("atoll-")), []);
});
