// The SDK against the real stack (control plane + oci driver + agent): exec semantics and
// streaming, files (text, binary, raw 100 MiB, directories), processes and readiness waits,
// sessions, env round-trip, ports/preview URLs/proxyToSandbox/WebSockets, code interpreter,
// errors. One server, a few sandboxes, all destroyed at the end.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import os from "node:os";
import path from "node:path";
import { WebSocket } from "ws";
import {
  collectFile,
  createClient,
  getSandbox,
  parseSSEStream,
  proxyToSandbox,
  FileNotFoundError,
  InvalidPortError,
  ProcessNotFoundError,
  SandboxError,
  type AtollClient,
  type ExecEvent,
  type Sandbox,
} from "@atoll/sdk";
import { copyFromSandbox, copyToSandbox, wsConnectNode } from "@atoll/sdk/node";
import { startAtoll, waitFor, type Atoll } from "./harness.js";

let atoll: Atoll;
let client: AtollClient;
let sb: Sandbox;
const tmp = mkdtempSync(path.join(os.tmpdir(), "atoll-sdk-e2e-"));

/** GET through the server's loopback port with a given Host header (fetch cannot set Host). */
function getWithHost(port: number, host: string, pathname = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: pathname, headers: { host } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
  client = createClient({ url: atoll.url, apiKey: atoll.apiKey });
  sb = getSandbox(client, "sdk-main", { envVars: { FROM_OPTIONS: "opt-value" }, sleepAfter: "10m" });
});
after(async () => {
  await atoll?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("exec: output, exit codes, env from getSandbox options, per-call env/cwd/timeout", async () => {
  const t0 = performance.now();
  const r = await sb.exec("echo hi; echo err >&2; echo $FROM_OPTIONS");
  const firstMs = performance.now() - t0;
  assert.equal(r.stdout, "hi\nopt-value\n");
  assert.equal(r.stderr, "err\n");
  assert.equal(r.exitCode, 0);
  assert.equal(r.success, true);
  assert.equal(r.command, "echo hi; echo err >&2; echo $FROM_OPTIONS");
  const bad = await sb.exec("exit 7");
  assert.equal(bad.exitCode, 7);
  assert.equal(bad.success, false);
  const o = await sb.exec('echo "$A $B" && pwd', { env: { A: "x y", B: "z" }, cwd: "/tmp" });
  assert.equal(o.stdout, "x y z\n/tmp\n");
  assert.equal((await sb.exec("echo ${A:-unset}")).stdout, "unset\n", "per-call env does not leak into the session");
  const t1 = Date.now();
  const slow = await sb.exec("sleep 20", { timeout: 500 });
  assert.ok(Date.now() - t1 < 5000, "timeout honoured");
  assert.equal(slow.timedOut, true);
  assert.notEqual(slow.exitCode, 0);
  // warm round trip
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await sb.exec("true");
    times.push(performance.now() - s);
  }
  times.sort((a, b) => a - b);
  console.log(`# first exec (create + run) ${firstMs.toFixed(0)} ms; warm exec('true') p50 ${times[10]!.toFixed(1)} ms`);
});

test("exec streaming: onOutput in order while running, onComplete, execStream + parseSSEStream", async () => {
  const seen: [string, string][] = [];
  let completed: unknown;
  const r = await sb.exec("for i in 1 2 3; do echo out$i; echo err$i >&2; done", { stream: true, onOutput: (s, d) => seen.push([s, d]), onComplete: (x) => (completed = x) });
  assert.equal(seen.filter(([s]) => s === "stdout").map(([, d]) => d).join(""), "out1\nout2\nout3\n");
  assert.equal(seen.filter(([s]) => s === "stderr").map(([, d]) => d).join(""), "err1\nerr2\nerr3\n");
  assert.equal(r.stdout, "out1\nout2\nout3\n");
  assert.deepEqual(completed, r);
  const types: string[] = [];
  for await (const ev of parseSSEStream<ExecEvent>(await sb.execStream("echo a; exit 3"))) {
    types.push(ev.type);
    if (ev.type === "complete") assert.equal(ev.exitCode, 3);
  }
  assert.deepEqual(types, ["start", "stdout", "complete"]);
});

test("exec AbortSignal cancels the command inside the sandbox", async () => {
  const ac = new AbortController();
  const marker = `/tmp/abort-${Date.now()}`;
  const p = sb.exec(`echo started; sleep 30; touch ${marker}`, { stream: true, signal: ac.signal, onOutput: () => ac.abort(new Error("user abort")) });
  await assert.rejects(p, /user abort/);
  // The agent kills the command when its stream closes: no `sleep 30` is left.
  await waitFor("sleep 30 to be killed", async () => (await sb.exec("pgrep -f 'sleep 30' || true")).stdout.trim() === "", 5000, 100);
  assert.equal((await sb.exists(marker)).exists, false);
  // buffered exec with a signal is cancelled too
  const ac2 = new AbortController();
  const p2 = sb.exec("sleep 31", { signal: ac2.signal });
  setTimeout(() => ac2.abort(), 300);
  await assert.rejects(p2, (e: unknown) => (e as Error).name === "AbortError");
  await waitFor("sleep 31 to be killed", async () => (await sb.exec("pgrep -f 'sleep 31' || true")).stdout.trim() === "", 5000, 100);
});

test("files: text, binary, stream helpers, directory operations, typed errors", async () => {
  await sb.mkdir("/workspace/f/sub", { recursive: true });
  const text = "héllo ☃\nline 2\n";
  await sb.writeFile("/workspace/f/a.txt", text);
  const rt = await sb.readFile("/workspace/f/a.txt");
  assert.equal(rt.content, text);
  assert.equal(rt.encoding, "utf-8");
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 131 + 17) & 0xff);
  await sb.writeFile("/workspace/f/b.bin", bytes);
  const rb = await sb.readFile("/workspace/f/b.bin");
  assert.equal(rb.encoding, "base64");
  assert.deepEqual(new Uint8Array(Buffer.from(rb.content, "base64")), bytes);
  const { content, metadata } = await collectFile(await sb.readFileStream("/workspace/f/b.bin"));
  assert.equal(metadata.isBinary, true);
  assert.deepEqual(content, bytes);
  const ct = await collectFile(await sb.readFileStream("/workspace/f/a.txt"));
  assert.equal(ct.content, text);
  assert.equal((await sb.exists("/workspace/f/a.txt")).exists, true);
  await sb.renameFile("/workspace/f/a.txt", "/workspace/f/c.txt");
  await sb.moveFile("/workspace/f/c.txt", "/workspace/f/sub/c.txt");
  const list = await sb.listFiles("/workspace/f", { recursive: true });
  assert.deepEqual(list.files.map((f) => f.relativePath).sort(), ["b.bin", "sub", "sub/c.txt"]);
  await sb.deleteFile("/workspace/f/sub/c.txt");
  assert.equal((await sb.exists("/workspace/f/sub/c.txt")).exists, false);
  await assert.rejects(sb.readFile("/workspace/nope.txt"), (e: unknown) => {
    assert.ok(e instanceof FileNotFoundError, String(e));
    assert.equal(e.code, "FILE_NOT_FOUND");
    assert.equal(e.httpStatus, 404);
    assert.equal(typeof e.context, "object");
    assert.match(e.message, /^Cannot /);
    return true;
  });
});

test("files: raw 100 MiB upload/download and directory round trip (tar)", async () => {
  const size = 100 * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + 7) & 0xff;
  const want = createHash("sha256");
  for (let i = 0; i < 100; i++) want.update(block);
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (n++ < 100) c.enqueue(new Uint8Array(block));
      else c.close();
    },
  });
  let t = performance.now();
  const up = await sb.uploadFile("/workspace/big.bin", body);
  const upMs = performance.now() - t;
  assert.equal(up.bytesWritten, size);
  t = performance.now();
  const got = createHash("sha256");
  let total = 0;
  for await (const c of (await sb.downloadFile("/workspace/big.bin")) as unknown as AsyncIterable<Uint8Array>) {
    got.update(c);
    total += c.length;
  }
  const downMs = performance.now() - t;
  assert.equal(total, size);
  assert.equal(got.digest("hex"), want.digest("hex"));
  console.log(`# raw 100 MiB via SDK: upload ${(100 / (upMs / 1000)).toFixed(0)} MiB/s, download ${(100 / (downMs / 1000)).toFixed(0)} MiB/s`);
  await sb.deleteFile("/workspace/big.bin");

  const src = path.join(tmp, "src");
  mkdirSync(path.join(src, "deep/er"), { recursive: true });
  writeFileSync(path.join(src, "top.txt"), "top\n");
  writeFileSync(path.join(src, "deep/er/x.bin"), Buffer.from([0, 1, 2, 255]));
  await copyToSandbox(sb, src, "/workspace/tree");
  assert.equal((await sb.exec("cat /workspace/tree/top.txt && od -An -tu1 /workspace/tree/deep/er/x.bin | tr -s ' '")).stdout, "top\n 0 1 2 255\n");
  const dst = path.join(tmp, "back");
  await copyFromSandbox(sb, "/workspace/tree", dst);
  assert.equal(readFileSync(path.join(dst, "top.txt"), "utf8"), "top\n");
  assert.deepEqual([...readFileSync(path.join(dst, "deep/er/x.bin"))], [0, 1, 2, 255]);
});

test("files: writeFile/readFile of 100 MiB (text) round-trip; figures against local disk", async () => {
  const line = "0123456789abcdefghijklmnopqrstuvwxyz ☃ ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
  const text = line.repeat(Math.ceil((100 * 1024 * 1024) / Buffer.byteLength(line)));
  let t = performance.now();
  await sb.writeFile("/workspace/big.txt", text);
  const wMs = performance.now() - t;
  t = performance.now();
  const r = await sb.readFile("/workspace/big.txt");
  const rMs = performance.now() - t;
  assert.equal(r.size, Buffer.byteLength(text));
  assert.ok(r.content === text, "content differs");
  await sb.deleteFile("/workspace/big.txt");
  // Same bytes through the local filesystem (write + fsync, read back), same run.
  const local = path.join(tmp, "big.txt");
  t = performance.now();
  writeFileSync(local, text, { flush: true });
  const lwMs = performance.now() - t;
  t = performance.now();
  const back = readFileSync(local, "utf8");
  const lrMs = performance.now() - t;
  assert.equal(back.length, text.length);
  rmSync(local);
  const mb = Buffer.byteLength(text) / 1048576;
  console.log(`# writeFile ${mb.toFixed(0)} MiB: ${(mb / (wMs / 1000)).toFixed(0)} MiB/s (local ${(mb / (lwMs / 1000)).toFixed(0)}, ratio ${(lwMs / wMs).toFixed(2)}); readFile: ${(mb / (rMs / 1000)).toFixed(0)} MiB/s (local ${(mb / (lrMs / 1000)).toFixed(0)}, ratio ${(lrMs / rMs).toFixed(2)})`);
});

test("watch: events after ready", async () => {
  await sb.mkdir("/workspace/w", { recursive: true });
  const ac = new AbortController();
  const w = sb.watch("/workspace/w", { recursive: true, signal: ac.signal });
  await w.ready;
  await sb.writeFile("/workspace/w/new.txt", "x");
  for await (const ev of w) {
    if (ev.path.endsWith("new.txt")) {
      assert.ok(["create", "modify"].includes(ev.type), ev.type);
      break;
    }
  }
});

test("processes: waitForLog, waitForPort, logs, list, kill, waitForExit, callbacks", async () => {
  const server = await sb.startProcess("python3 -u -m http.server 8081 --bind 0.0.0.0", { cwd: "/workspace", processId: "web" });
  assert.equal(server.id, "web");
  assert.ok(server.pid && server.pid > 0);
  const line = await server.waitForLog(/Serving HTTP on \S+ port (\d+)/, 15_000);
  assert.equal(line.match?.[1], "8081");
  await server.waitForPort(8081, { path: "/", timeout: 10_000 });
  await server.waitForPort(8081, { mode: "tcp", timeout: 5000 });
  assert.ok((await sb.listProcesses()).some((p) => p.id === "web" && p.status === "running"));
  assert.equal(await server.getStatus(), "running");

  const out: string[] = [];
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    void sb.startProcess("echo one; echo two >&2; exit 3", {
      onOutput: (s, d) => out.push(`${s}:${d}`),
      onExit: (c) => ((exitCode = c), resolve()),
    });
  });
  await exited;
  assert.equal(exitCode, 3);
  assert.deepEqual(out.sort(), ["stderr:two\n", "stdout:one\n"]);

  const quick = await sb.startProcess("echo done-now");
  assert.deepEqual(await quick.waitForExit(10_000), { exitCode: 0, status: "completed" });
  assert.equal((await quick.getLogs()).stdout, "done-now\n");
  assert.equal((await sb.getProcessLogs(quick.id)).stdout, "done-now\n");

  const dies = await sb.startProcess("echo bye; exit 1");
  await assert.rejects(dies.waitForLog("never printed", 10_000), (e: unknown) => e instanceof SandboxError && e.code === "PROCESS_EXITED_BEFORE_READY");
  const sleeper = await sb.startProcess("sleep 60");
  await assert.rejects(sleeper.waitForPort(8099, { timeout: 600, interval: 100 }), (e: unknown) => e instanceof SandboxError && e.code === "PROCESS_READY_TIMEOUT");
  await assert.rejects(sleeper.waitForExit(300), (e: unknown) => e instanceof SandboxError && e.code === "COMMAND_TIMEOUT");
  await sleeper.kill("SIGKILL");
  const ended = await sleeper.waitForExit(10_000);
  assert.equal(ended.status, "killed");

  assert.equal(await sb.getProcess("no-such-process"), null);
  await assert.rejects(sb.killProcess("no-such-process"), (e: unknown) => e instanceof ProcessNotFoundError && e.httpStatus === 404);
  assert.ok((await sb.cleanupCompletedProcesses()) >= 1);
});

test("ports: exposePort URL shape, preview router, proxyToSandbox, listing, unexpose, bad ports", async () => {
  // relies on the http.server on 8081 from the processes test
  const { url } = await sb.exposePort(8081, { name: "web" });
  const m = /^http:\/\/8081-sdk-main-([a-z0-9_-]{16})\.localhost:(\d+)\/$/.exec(url);
  assert.ok(m, url);
  assert.equal(Number(m[2]), atoll.port);
  const ports = await sb.getExposedPorts();
  assert.deepEqual(ports.map((p) => [p.port, p.url, p.status]), [[8081, url, "active"]]);
  // the preview router itself (Host header on the server's loopback port)
  const host = new URL(url).host;
  const direct = await getWithHost(atoll.port, host);
  assert.equal(direct.status, 200);
  assert.match(direct.body, /Directory listing/);
  // proxyToSandbox from "your app": a request for the preview host is forwarded
  const viaSdk = await proxyToSandbox(new Request(`http://${host}/`, { headers: { host } }), client);
  assert.equal(viaSdk?.status, 200);
  assert.match(await viaSdk!.text(), /Directory listing/);
  assert.equal(await proxyToSandbox(new Request("http://example.com/"), client), null);
  await assert.rejects(sb.exposePort(3000), (e: unknown) => e instanceof InvalidPortError && e.httpStatus === 400);
  await sb.unexposePort(8081);
  assert.deepEqual(await sb.getExposedPorts(), []);
  const gone = await getWithHost(atoll.port, host);
  assert.equal(gone.status, 404);
  assert.equal((JSON.parse(gone.body) as { code: string }).code, "INVALID_TOKEN");
});

test("WebSockets: connectWebSocket and wsConnectNode reach a server in the sandbox", async () => {
  const ws = await sb.startProcess(
    `bun -e 'Bun.serve({port: 8082, hostname: "0.0.0.0", fetch(r, s) { if (s.upgrade(r)) return; return new Response("plain") }, websocket: { message(w, m) { w.send("echo:" + m) } } }); console.log("ws ready")'`,
  );
  await ws.waitForLog("ws ready", 15_000);
  const sock = await sb.connectWebSocket(8082, "/chat");
  const reply = await new Promise<string>((resolve, reject) => {
    sock.addEventListener("message", (e) => resolve(String(e.data)));
    sock.addEventListener("error", () => reject(new Error("ws error")));
    sock.send("hi");
  });
  assert.equal(reply, "echo:hi");
  sock.close();

  // A Node app forwarding its own upgrade requests to the sandbox.
  const app = createServer((_q, s) => s.end("app"));
  app.on("upgrade", (req, socket, head) => void wsConnectNode(sb, 8082, req, socket, head).catch(() => {}));
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  try {
    const port = (app.address() as { port: number }).port;
    const c = new WebSocket(`ws://127.0.0.1:${port}/x`);
    const got = await new Promise<string>((resolve, reject) => {
      c.on("open", () => c.send("via-node"));
      c.on("message", (d) => resolve(d.toString()));
      c.on("error", reject);
    });
    assert.equal(got, "echo:via-node");
    c.close();
  } finally {
    app.closeAllConnections();
    await new Promise<void>((r) => app.close(() => r()));
    await ws.kill("SIGKILL");
  }
});

test("sessions are isolated (cwd, env); setEnvVars round-trips tricky values", async () => {
  const a = await sb.createSession({ id: "sess-a", env: { ONLY_A: "yes" }, cwd: "/tmp" });
  assert.equal(a.id, "sess-a");
  await a.exec("cd /usr && export IN_A=1");
  assert.equal((await a.exec("pwd; echo ${ONLY_A}-${IN_A}")).stdout, "/usr\nyes-1\n");
  assert.equal((await sb.exec("pwd; echo ${ONLY_A:-none}-${IN_A:-none}")).stdout, "/workspace\nnone-none\n");
  const tricky = `a'b"c $HOME \`id\` \\n back\\slash\nnew line ☃ ; rm -rf / #`;
  await a.setEnvVars({ TRICKY: tricky });
  assert.equal((await a.exec('printf %s "$TRICKY"')).stdout, tricky);
  assert.equal((await sb.exec('printf %s "${TRICKY:-unset}"')).stdout, "unset");
  await sb.setEnvVars({ TRICKY: tricky });
  assert.equal((await sb.exec('printf %s "$TRICKY"')).stdout, tricky);
  await sb.setEnvVars({ TRICKY: null });
  assert.equal((await sb.exec('printf %s "${TRICKY:-unset}"')).stdout, "unset");
  const again = await sb.getSession("sess-a");
  assert.equal((await again.exec("pwd")).stdout, "/usr\n");
  await sb.deleteSession("sess-a");
  await assert.rejects(again.exec("true"), (e: unknown) => e instanceof SandboxError && e.code === "SESSION_NOT_FOUND");
});

test("code interpreter: results, stdout, errors, contexts", async () => {
  const stdout: string[] = [];
  const r = await sb.runCode("print('hello')\nx = 41\nx + 1", { onStdout: (o) => void stdout.push(o.text) });
  assert.deepEqual(r.logs.stdout.join(""), "hello\n");
  assert.equal(stdout.join(""), "hello\n");
  assert.equal(r.results[0]?.text, "42");
  assert.equal(r.error, undefined);
  const bad = await sb.runCode("undefined_name + 1");
  assert.equal(bad.error?.name, "NameError");
  const ctx = await sb.createCodeContext({ language: "python" });
  await sb.runCode("y = 5", { context: ctx });
  assert.equal((await sb.runCode("y * 2", { context: ctx })).results[0]?.text, "10");
  assert.ok((await sb.listCodeContexts()).some((c) => c.id === ctx.id));
  await sb.deleteCodeContext(ctx.id);
  await assert.rejects(sb.runCode("1", { context: ctx }), (e: unknown) => e instanceof SandboxError && e.code === "CONTEXT_NOT_FOUND" && e.httpStatus === 404);
  const js = await sb.runCode("const a = [1, 2, 3]; a.map((v) => v * 2)", { language: "javascript" });
  assert.match(js.results[0]?.text ?? "", /2,\s*4,\s*6/);
  // rich results: an HTML table and a matplotlib PNG, with formats() on the onResult object
  const formats: string[][] = [];
  const rich = await sb.runCode("import pandas as pd\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\npd.DataFrame({'a': [1, 2]})", { onResult: (r) => void formats.push(r.formats()), timeout: 60_000 });
  assert.equal(rich.error, undefined, JSON.stringify(rich.error));
  const png = rich.results.find((r) => r.png);
  assert.ok(png, JSON.stringify(rich.results.map((r) => Object.keys(r))));
  assert.equal(Buffer.from(png.png!, "base64").subarray(1, 4).toString(), "PNG");
  assert.ok(rich.results.some((r) => r.html?.includes("<table")));
  assert.ok(formats.some((f) => f.includes("png")) && formats.some((f) => f.includes("html")), JSON.stringify(formats));
  // runCodeStream: the raw events
  const types: string[] = [];
  for await (const ev of parseSSEStream<{ type: string }>(await sb.runCodeStream("print(1)\n2"))) types.push(ev.type);
  assert.deepEqual(types, ["stdout", "result", "execution_complete"]);
});

test("lifecycle: keepAlive/sleepAfter, list, destroy; second sandbox is independent", async () => {
  const other = getSandbox(client, "sdk-other");
  await other.writeFile("/workspace/only-here", "1");
  assert.equal((await sb.exists("/workspace/only-here")).exists, false);
  await other.setKeepAlive(true);
  await other.setSleepAfter("30m");
  const info = await other.info();
  assert.equal(info.keepAlive, true);
  assert.equal(info.sleepAfterMs, 30 * 60_000);
  assert.ok((await client.listSandboxes()).some((s) => s.id === "sdk-other"));
  await other.destroy();
  assert.ok(!(await client.listSandboxes()).some((s) => s.id === "sdk-other"));
  await other.destroy(); // idempotent
  // a wrong API key is UNAUTHORIZED with status 401
  const bad = getSandbox(createClient({ url: atoll.url, apiKey: "wrong" }), "sdk-main");
  await assert.rejects(bad.exec("true"), (e: unknown) => e instanceof SandboxError && e.code === "UNAUTHORIZED" && e.httpStatus === 401);
});

test("gitCheckout clones (file:// repo made inside the sandbox); bad repos are typed git errors", async () => {
  const mk = await sb.exec(
    "rm -rf /tmp/src-repo && git init -q -b main /tmp/src-repo && cd /tmp/src-repo && echo v1 > README && git -c user.email=t@t -c user.name=t add . && git -c user.email=t@t -c user.name=t commit -qm one && git branch -q feature",
  );
  assert.equal(mk.exitCode, 0, mk.stderr);
  const r = await sb.gitCheckout("file:///tmp/src-repo", { branch: "feature", depth: 1 });
  assert.equal(r.success, true);
  assert.equal(r.targetDir, "/workspace/src-repo");
  assert.equal((await sb.readFile("/workspace/src-repo/README")).content, "v1\n");
  await assert.rejects(sb.gitCheckout("file:///tmp/no-such-repo", { targetDir: "/workspace/x" }), (e: unknown) => e instanceof SandboxError && e.code.startsWith("GIT_") && e.httpStatus >= 400);
  await assert.rejects(sb.gitCheckout("not a url"), (e: unknown) => e instanceof SandboxError && e.code === "INVALID_GIT_URL" && e.httpStatus === 400);
});

test("pause/resume, snapshot → new sandbox from it, killAllProcesses", async () => {
  const box = getSandbox(client, "sdk-life");
  await box.writeFile("/workspace/state.txt", "before-snapshot");
  await box.startProcess("sleep 300");
  await box.startProcess("sleep 301");
  assert.equal(await box.killAllProcesses(), 2);
  const paused = await box.pause();
  assert.equal(paused.status, "paused");
  await assert.rejects(box.exec("true"), (e: unknown) => e instanceof SandboxError && e.code === "SANDBOX_PAUSED" && e.httpStatus === 409);
  assert.equal((await box.resume()).status, "running");
  assert.equal((await box.exec("echo back")).stdout, "back\n");
  const snap = await box.snapshot("sdk-snap");
  assert.equal(snap.name, "sdk-snap");
  assert.equal(snap.sandboxId, "sdk-life");
  assert.ok((await client.listSnapshots()).some((s) => s.name === "sdk-snap"));
  const fork = getSandbox(client, "sdk-fork", { fromSnapshot: "sdk-snap" });
  assert.equal((await fork.readFile("/workspace/state.txt")).content, "before-snapshot");
  await fork.destroy();
  await box.destroy();
  await client.deleteSnapshot("sdk-snap");
  assert.ok(!(await client.listSnapshots()).some((s) => s.name === "sdk-snap"));
});
