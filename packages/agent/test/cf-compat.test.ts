// Compatibility: the published SandboxClient of @cloudflare/sandbox@0.4.18, pointed at a real
// Atoll agent, drives sessions, exec, streaming, files and processes. The agent runs with a key
// (as in a sandbox); the client reaches it through a `stub` whose containerFetch adds the key
// header, as a control plane would.
// Its dist imports @cloudflare/containers, which needs the Workers runtime; a module resolve hook
// maps that import to a tiny stub so the client loads in Node.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { loadCloudflareSandbox } from "./cf-loader.js";
import path from "node:path";
import { startAgent, type Agent } from "./exec-harness.js";
import { AGENT_KEY_HEADER, AGENT_KEY_VERIFIER_ENV } from "@atoll/protocol";
import { keyVerifier } from "../src/auth.js";

const KEY = "cf-compat-test-key";


// eslint-disable-next-line @typescript-eslint/no-explicit-any
let cf: any;
let agent: Agent;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let client: any;

before(async () => {
  cf = await loadCloudflareSandbox();
  agent = await startAgent({ [AGENT_KEY_VERIFIER_ENV]: keyVerifier(KEY) });
  const stub = {
    containerFetch(url: string, init: RequestInit, port: number) {
      const headers = new Headers(init.headers);
      headers.set(AGENT_KEY_HEADER, KEY);
      return fetch(url.replace(`http://localhost:${port}`, agent.url), { ...init, headers });
    },
  };
  client = new cf.SandboxClient({ baseUrl: "http://localhost:3000", port: 3000, stub });
});
after(async () => {
  await agent?.stop();
});

test("ping and version", async () => {
  assert.equal(await client.utils.ping(), "pong");
  assert.notEqual(await client.utils.getVersion(), "unknown");
});

test("sessions: create, execute keeps state, duplicate create says 'already exists'", async () => {
  const s = await client.utils.createSession({ id: "cf-s", env: { FROM_CREATE: "yes" }, cwd: agent.workdir });
  assert.equal(s.success, true);
  assert.equal(s.id, "cf-s");
  await client.commands.execute("cd /tmp && export Y=2", "cf-s");
  const r = await client.commands.execute('pwd; echo "$Y $FROM_CREATE"', "cf-s");
  assert.equal(r.success, true);
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout, "/tmp\n2 yes\n");
  const fail = await client.commands.execute("exit 7", "cf-s");
  assert.equal(fail.exitCode, 7);
  assert.equal(fail.success, false);
  await assert.rejects(client.utils.createSession({ id: "cf-s" }), (e: Error) => /already exists/.test(e.message));
  const del = await client.utils.deleteSession("cf-s");
  assert.equal(del.success, true);
});

test("executeStream parsed with the SDK's parseSSEStream", async () => {
  await client.utils.createSession({ id: "cf-stream" });
  const stream = await client.commands.executeStream("echo a; echo b >&2; exit 3", "cf-stream");
  const events: any[] = [];
  for await (const ev of cf.parseSSEStream(stream)) events.push(ev);
  assert.deepEqual(events.map((e) => e.type), ["start", "stdout", "stderr", "complete"]);
  assert.equal(events[1].data, "a\n");
  assert.equal(events[2].data, "b\n");
  assert.equal(events[3].exitCode, 3);
});

test("files: write, read, exists, mkdir, list", async () => {
  const file = path.join(agent.workdir, "cf", "hello.txt");
  await client.files.mkdir(path.dirname(file), "default", { recursive: true });
  const w = await client.files.writeFile(file, "hi from cf", "default");
  assert.equal(w.success, true);
  const r = await client.files.readFile(file, "default");
  assert.equal(r.content, "hi from cf");
  assert.equal((await client.files.exists(file, "default")).exists, true);
  const list = await client.files.listFiles(path.dirname(file), "default");
  assert.ok(list.files.some((f: any) => f.name === "hello.txt"));
  // And the shell sees the same file.
  const cat = await client.commands.execute(`cat ${file}`, "default");
  assert.equal(cat.stdout, "hi from cf");
});

test("processes: start, list, get, logs, stream, kill, kill-all", async () => {
  const started = await client.processes.startProcess("echo hello-proc; sleep 60", "default", { processId: "cf-p1" });
  assert.equal(started.processId, "cf-p1");
  assert.equal(typeof started.pid, "number");
  const stream = await client.processes.streamProcessLogs("cf-p1");
  const it = cf.parseSSEStream(stream)[Symbol.asyncIterator]();
  assert.equal((await it.next()).value.type, "process_info");
  const out = (await it.next()).value;
  assert.deepEqual([out.type, out.data], ["stdout", "hello-proc\n"]);
  const list = await client.processes.listProcesses();
  assert.ok(list.processes.some((p: any) => p.id === "cf-p1" && p.status === "running"));
  const info = await client.processes.getProcess("cf-p1");
  assert.equal(info.process.command, "echo hello-proc; sleep 60");
  const logs = await client.processes.getProcessLogs("cf-p1");
  assert.equal(logs.stdout, "hello-proc\n");
  const killed = await client.processes.killProcess("cf-p1");
  assert.equal(killed.success, true);
  const exit = (await it.next()).value;
  assert.equal(exit.type, "exit");
  assert.equal((await client.processes.getProcess("cf-p1")).process.status, "killed");

  await client.processes.startProcess("sleep 60", "default");
  await client.processes.startProcess("sleep 60", "default");
  const all = await client.processes.killAllProcesses();
  assert.equal(all.cleanedCount, 2);
  await assert.rejects(client.processes.getProcess("nope"), (e: any) => e.code === "PROCESS_NOT_FOUND" || /not found/i.test(e.message));
});

test("ports: expose, list, unexpose", async () => {
  const e = await client.ports.exposePort(8123, "default", "api");
  assert.equal(e.port, 8123);
  const list = await client.ports.getExposedPorts("default");
  assert.deepEqual(list.ports.map((p: any) => p.port), [8123]);
  await client.ports.unexposePort(8123, "default");
  assert.deepEqual((await client.ports.getExposedPorts("default")).ports, []);
});
