// Integration tests of background processes (/api/process/*) and port bookkeeping against the
// real bundled agent.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { SSE, alive, call, exec, get, pidsWithEnv, post, startAgent, until, type Agent } from "./exec-harness.js";

let agent: Agent;
before(async () => {
  agent = await startAgent({ ATOLL_KILL_GRACE_MS: "400" });
});
after(async () => {
  await agent?.stop();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const waitDone = async (id: string) => (await get(agent.url, `/api/process/${id}/wait?timeoutMs=10000`)).body.process;

describe("process lifecycle", () => {
  test("HTTP server: start, logs replay + live, kill → killed and its whole tree is gone", async () => {
    const port = await freePort();
    const id = `web-${Date.now()}`;
    // A server plus a forked worker, a setsid'd worker and a double-forked daemon.
    const server = `require('http').createServer((q,r)=>{console.log('req '+q.url);r.end('hello')}).listen(${port},'127.0.0.1',()=>console.log('listening'))`;
    const command = `sleep 300 & setsid sleep 301 & (setsid sleep 302 &); echo booting; exec node -e "${server}"`;
    const start = await post(agent.url, "/api/process/start", { command, processId: id });
    assert.equal(start.status, 200);
    assert.equal(start.body.processId, id);
    assert.equal(typeof start.body.pid, "number");

    const s1 = new SSE(`${agent.url}/api/process/${id}/stream`, "GET");
    const info = await s1.next();
    assert.equal(info.type, "process_info");
    assert.equal(info.processId, id);
    const out: string[] = [];
    while (!out.join("").includes("listening")) out.push((await s1.next()).data);
    assert.match(out.join(""), /booting\n/);

    const res = await fetch(`http://127.0.0.1:${port}/hi`);
    assert.equal(await res.text(), "hello");
    const live = await s1.next();
    assert.deepEqual([live.type, live.data], ["stdout", "req /hi\n"]);

    // A second reader gets the buffered output replayed.
    const s2 = new SSE(`${agent.url}/api/process/${id}/stream`, "GET");
    const replay = await s2.until("stdout");
    assert.match(replay.at(-1).data, /booting\nlistening\nreq \/hi\n/);
    s2.close();

    const logs = await get(agent.url, `/api/process/${id}/logs`);
    assert.equal(logs.body.stdout, "booting\nlistening\nreq /hi\n");
    assert.equal(logs.body.truncated, false);

    const listed = await get(agent.url, "/api/process/list");
    assert.equal(listed.body.processes.find((p: any) => p.id === id).status, "running");

    const tree = pidsWithEnv(`ATOLL_PROCESS_ID=${id}`);
    assert.ok(tree.length >= 4, `tree has ${tree.length} processes`);
    const del = await call(agent.url, "DELETE", `/api/process/${id}`);
    assert.equal(del.status, 200);
    assert.equal(del.body.signal, "SIGTERM");
    assert.deepEqual(tree.filter(alive), [], "no process of the tree survives the kill");
    assert.deepEqual(pidsWithEnv(`ATOLL_PROCESS_ID=${id}`), []);

    const exit = (await s1.until("exit")).at(-1);
    assert.equal(exit.status, "killed");
    const p = (await get(agent.url, `/api/process/${id}`)).body.process;
    assert.equal(p.status, "killed");
    assert.ok(p.endTime);
    assert.equal(typeof p.exitCode, "number");
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`));
  });

  test("completed and failed statuses with exit codes; wait returns when done", async () => {
    const ok = await post(agent.url, "/api/process/start", { command: "echo fine" });
    const bad = await post(agent.url, "/api/process/start", { command: "echo oops >&2; exit 3" });
    const pOk = await waitDone(ok.body.processId);
    const pBad = await waitDone(bad.body.processId);
    assert.deepEqual([pOk.status, pOk.exitCode], ["completed", 0]);
    assert.deepEqual([pBad.status, pBad.exitCode], ["failed", 3]);
    assert.equal((await get(agent.url, `/api/process/${bad.body.processId}/logs`)).body.stderr, "oops\n");
    // A stream of a finished process replays and exits at once.
    const s = new SSE(`${agent.url}/api/process/${bad.body.processId}/stream`, "GET");
    const evs = await s.until("exit");
    assert.deepEqual(evs.map((e) => e.type), ["process_info", "stderr", "exit"]);
    assert.equal(evs.at(-1).exitCode, 3);
  });

  test("background processes inherit the session's cwd and exported env", async () => {
    await post(agent.url, "/api/session/create", { id: "ps" });
    await exec(agent.url, "cd /tmp && export FOO='bar baz'", { sessionId: "ps" });
    const r = await post(agent.url, "/api/process/start", { command: 'pwd; echo "$FOO"', sessionId: "ps" });
    await waitDone(r.body.processId);
    assert.equal((await get(agent.url, `/api/process/${r.body.processId}/logs`)).body.stdout, "/tmp\nbar baz\n");
    // Per-process env and cwd override.
    const r2 = await post(agent.url, "/api/process/start", { command: 'pwd; echo "$FOO"', sessionId: "ps", cwd: "/usr", env: { FOO: "own" } });
    await waitDone(r2.body.processId);
    assert.equal((await get(agent.url, `/api/process/${r2.body.processId}/logs`)).body.stdout, "/usr\nown\n");
  });

  test("execute with background: true starts a process", async () => {
    const r = await post(agent.url, "/api/execute", { command: "echo bg", background: true });
    assert.equal(r.status, 200);
    assert.ok(r.body.processId);
    const p = await waitDone(r.body.processId);
    assert.equal(p.status, "completed");
  });

  test("kill with a signal: SIGINT is delivered; a TERM-ignoring tree is SIGKILLed after the grace period", async () => {
    const a = await post(agent.url, "/api/process/start", { command: "trap 'echo got INT; exit 0' INT; echo ready; while :; do sleep 0.1; done" });
    const s = new SSE(`${agent.url}/api/process/${a.body.processId}/stream`, "GET");
    await s.until("stdout");
    const k = await call(agent.url, "DELETE", `/api/process/${a.body.processId}?signal=INT`);
    assert.equal(k.body.signal, "SIGINT");
    assert.match((await get(agent.url, `/api/process/${a.body.processId}/logs`)).body.stdout, /got INT/);
    assert.equal((await get(agent.url, `/api/process/${a.body.processId}`)).body.process.status, "killed");

    const b = await post(agent.url, "/api/process/start", { command: "trap '' TERM; echo ready; sh -c 'trap \"\" TERM; sleep 300'" });
    const sb = new SSE(`${agent.url}/api/process/${b.body.processId}/stream`, "GET");
    await sb.until("stdout");
    const t0 = Date.now();
    await call(agent.url, "DELETE", `/api/process/${b.body.processId}`, { signal: "SIGTERM" });
    const took = Date.now() - t0;
    assert.ok(took >= 350 && took < 3000, `kill took ${took} ms (grace 400 ms)`);
    assert.deepEqual(pidsWithEnv(`ATOLL_PROCESS_ID=${b.body.processId}`), []);
    assert.equal((await sb.until("exit")).at(-1).status, "killed");
    const bad = await call(agent.url, "DELETE", `/api/process/${b.body.processId}?signal=NOPE`);
    assert.equal(bad.body.code, "VALIDATION_FAILED");
  });

  test("timeoutMs ends a process (killed, timedOut)", async () => {
    const r = await post(agent.url, "/api/process/start", { command: "sleep 30", timeoutMs: 200 });
    const p = await waitDone(r.body.processId);
    assert.equal(p.status, "killed");
    assert.equal(p.timedOut, true);
  });

  test("kill-all returns how many were running; cleanup drops finished records", async () => {
    for (let i = 0; i < 3; i++) await post(agent.url, "/api/process/start", { command: "sleep 60" });
    const r = await call(agent.url, "DELETE", "/api/process/kill-all");
    assert.equal(r.status, 200);
    assert.equal(r.body.cleanedCount, 3);
    const list = (await get(agent.url, "/api/process/list")).body.processes;
    assert.ok(list.every((p: any) => p.status !== "running" && p.status !== "starting"));
    const c = await post(agent.url, "/api/process/cleanup", {});
    assert.equal(c.body.cleanedCount, list.length);
    assert.deepEqual((await get(agent.url, "/api/process/list")).body.processes, []);
  });

  test("coded errors: PROCESS_EXISTS, PROCESS_NOT_FOUND, SESSION_NOT_FOUND", async () => {
    await post(agent.url, "/api/process/start", { command: "sleep 5", processId: "dup-p" });
    const r = await post(agent.url, "/api/process/start", { command: "true", processId: "dup-p" });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, "PROCESS_EXISTS");
    await call(agent.url, "DELETE", "/api/process/dup-p");
    for (const route of ["/api/process/nope", "/api/process/nope/logs", "/api/process/nope/stream"]) {
      const g = await get(agent.url, route);
      assert.equal(g.status, 404);
      assert.equal(g.body.code, "PROCESS_NOT_FOUND");
    }
    assert.equal((await call(agent.url, "DELETE", "/api/process/nope")).body.code, "PROCESS_NOT_FOUND");
    assert.equal((await post(agent.url, "/api/process/start", { command: "true", sessionId: "nope" })).body.code, "SESSION_NOT_FOUND");
    assert.equal((await post(agent.url, "/api/process/start", { command: "true", processId: "bad/id" })).body.code, "VALIDATION_FAILED");
  });
});

describe("process log ring", () => {
  test("logs are bounded; truncation is reported in logs and in the stream", async () => {
    const small = await startAgent({ ATOLL_PROCESS_LOG_BYTES: "4096" });
    try {
      const r = await post(small.url, "/api/process/start", { command: "seq 1 5000; echo done" });
      await get(small.url, `/api/process/${r.body.processId}/wait?timeoutMs=10000`);
      const logs = (await get(small.url, `/api/process/${r.body.processId}/logs`)).body;
      assert.equal(logs.truncated, true);
      assert.ok(logs.stdout.length <= 4096);
      assert.ok(logs.stdout.endsWith("4999\n5000\ndone\n"));
      const total = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join("").length + 5;
      assert.equal(logs.droppedBytes.stdout + Buffer.byteLength(logs.stdout), total);
      const s = new SSE(`${small.url}/api/process/${r.body.processId}/stream`, "GET");
      const evs = await s.until("exit");
      const t = evs.find((e) => e.type === "truncated");
      assert.equal(t.droppedBytes, logs.droppedBytes.stdout);
    } finally {
      await small.stop();
    }
  });
});

describe("finished records", () => {
  test("the oldest finished records are evicted past ATOLL_PROCESS_MAX_FINISHED", async () => {
    const small = await startAgent({ ATOLL_PROCESS_MAX_FINISHED: "3" });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await post(small.url, "/api/process/start", { command: `echo ${i}`, processId: `f${i}` });
        ids.push(r.body.processId);
        await get(small.url, `/api/process/${r.body.processId}/wait?timeoutMs=10000`);
      }
      const left = (await get(small.url, "/api/process/list")).body.processes.map((p: any) => p.id);
      assert.deepEqual(left, ["f2", "f3", "f4"]);
      assert.equal((await get(small.url, "/api/process/f0")).body.code, "PROCESS_NOT_FOUND");
    } finally {
      await small.stop();
    }
  });
});

describe("port bookkeeping", () => {
  test("expose, list (with listening status), unexpose, errors", async () => {
    const port = await freePort();
    const srv = net.createServer().listen(port, "127.0.0.1");
    await new Promise((r) => srv.once("listening", r));
    try {
      const e = await post(agent.url, "/api/expose-port", { port, name: "web" });
      assert.equal(e.status, 200);
      assert.equal(e.body.port, port);
      assert.equal((await post(agent.url, "/api/expose-port", { port })).body.code, "PORT_ALREADY_EXPOSED");
      assert.equal((await post(agent.url, "/api/expose-port", { port: 3000 })).body.code, "INVALID_PORT");
      assert.equal((await post(agent.url, "/api/expose-port", { port: 80 })).body.code, "INVALID_PORT");
      const list = (await get(agent.url, "/api/exposed-ports")).body.ports;
      assert.deepEqual(list.map((p: any) => [p.port, p.name, p.status]), [[port, "web", "active"]]);
      assert.equal((await call(agent.url, "DELETE", `/api/exposed-ports/${port}`)).status, 200);
      assert.equal((await call(agent.url, "DELETE", `/api/exposed-ports/${port}`)).body.code, "PORT_NOT_EXPOSED");
      assert.deepEqual((await get(agent.url, "/api/exposed-ports")).body.ports, []);
    } finally {
      srv.close();
    }
  });
});

test("until helper is bounded", async () => {
  await assert.rejects(until(() => false, 50, "never"), /never/);
});
