// Crash recovery against real sandboxes:
//  1. a host reboot, simulated: control plane killed -9, then everything a reboot wipes is wiped
//     (the sandbox's processes, the runtime's state, mounts, netns/veth, the driver's /run state);
//     the data dir stays. After a restart the sandbox comes back on demand with its files, named
//     session and exposed port.
//  2. the agent inside a sandbox is killed -9: entry.sh restarts it, the control plane's calls keep
//     succeeding, and a background process started before keeps running (tini holds it).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { startAtoll, exec, hostResources, waitFor, type Atoll } from "./harness.js";
import { send } from "./preview-helpers.js";

let atoll: Atoll;
const small = { limits: { memoryMiB: 256 } };
before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const shOk = (cmd: string, args: string[]) => {
  try {
    sh(cmd, args);
  } catch {
    /* already gone */
  }
};
const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts python's http.server on `port` in /workspace as a background process; resolves once it answers. */
async function startServer(id: string, port: number): Promise<void> {
  const r = await atoll.json("POST", `/v1/sandboxes/${id}/api/process/start`, { command: `python3 -m http.server ${port} --bind 0.0.0.0`, cwd: "/workspace" });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await waitFor(`server on ${port}`, async () => (await exec(atoll, id, `curl -sf -o /dev/null http://127.0.0.1:${port}/ && echo up`)).stdout === "up\n", 20_000, 100);
}

/** GET through the preview URL (Host header on the control plane's port). */
async function preview(url: string, path: string) {
  return send(atoll.port, new URL(url).host, { path });
}

/** What a reboot wipes for one sandbox (everything in /run and in the kernel), leaving its data dir. */
async function simulateReboot(id: string): Promise<void> {
  const res = await hostResources(atoll.dataDir, id);
  const state = JSON.parse(readFileSync(`${res.dir}/state.json`, "utf8")) as { pid?: number; ip?: string };
  assert.ok(state.pid && pidAlive(state.pid), "the driver recorded a live init pid");
  // Every process of the sandbox: killing its init (pid 1 of its pid namespace) kills them all.
  process.kill(state.pid, "SIGKILL");
  await waitFor("the sandbox init to exit", () => !pidAlive(state.pid!), 10_000, 20);
  // The runtime's state (tmpfs /run) and its cgroups (kernel).
  sh("crun", ["--root", res.runtimeRoot, "delete", "-f", res.container]);
  // Mounts: overlay root, then the loop-mounted disk image (autoclear frees the loop device).
  for (const m of [res.rootfs, res.diskMnt]) sh("umount", [m]);
  // Network: netns (its veth end and the pair go with it), the host veth if left, the neighbour pin.
  shOk("ip", ["netns", "del", res.netns]);
  if (res.veth && existsSync(`/sys/class/net/${res.veth}`)) shOk("ip", ["link", "del", res.veth]);
  if (state.ip) shOk("ip", ["neigh", "del", state.ip, "dev", "atoll0"]);
  // The driver's host-global state in /run: this sandbox's address lease.
  if (state.ip) {
    const lease = `/run/atoll/ipam/atoll0/${state.ip}`;
    if (existsSync(lease)) unlinkSync(lease);
  }
  assert.equal(existsSync(`${res.runtimeRoot}/${res.container}`), false, "runtime state gone");
}

test("host reboot (simulated): the sandbox comes back on demand with its files, session and preview port", { timeout: 180_000 }, async () => {
  const id = "rs-reboot";
  assert.equal((await atoll.json("PUT", `/v1/sandboxes/${id}`, small)).status, 201);
  assert.equal((await exec(atoll, id, "echo persisted > /workspace/keep.txt && sync")).exitCode, 0);
  assert.equal((await atoll.json("POST", `/v1/sandboxes/${id}/api/session/create`, { id: "work", cwd: "/tmp", env: { S_VAR: "in-session" } })).status, 200);
  const exposed = await atoll.json("POST", `/v1/sandboxes/${id}/ports`, { port: 8080 });
  assert.equal(exposed.status, 200, JSON.stringify(exposed.body));
  const url = exposed.body.url as string;
  await startServer(id, 8080);
  assert.equal((await preview(url, "/keep.txt")).body.toString(), "persisted\n");

  await atoll.kill9();
  await simulateReboot(id);
  const t0 = performance.now();
  await atoll.restart();
  const restartMs = performance.now() - t0;
  assert.equal((await atoll.json("GET", `/v1/sandboxes/${id}`)).body.status, "sleeping", "adopted as sleeping");
  // A sandbox made before the old one wakes may be given its old address (the lease was in /run):
  // waking the old one must not tear down the newcomer's network (veth, neighbour entry).
  const oldIp = (await hostResources(atoll.dataDir, id)).ip;
  assert.equal((await atoll.json("PUT", "/v1/sandboxes/rs-other", small)).status, 201);
  const otherIp = (await hostResources(atoll.dataDir, "rs-other")).ip;

  const w0 = performance.now();
  const r = await exec(atoll, id, "cat /workspace/keep.txt");
  const wakeMs = performance.now() - w0;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.stdout, "persisted\n");
  assert.equal((await atoll.json("GET", `/v1/sandboxes/${id}`)).body.status, "running");
  const s = await exec(atoll, id, "pwd; echo $S_VAR", { sessionId: "work" });
  assert.equal(s.stdout, "/tmp\nin-session\n", JSON.stringify(s.body));
  // The exposed port and its URL (token) survive; processes do not: the server is started again.
  const ports = await atoll.json("GET", `/v1/sandboxes/${id}/ports`);
  assert.deepEqual(ports.body.ports.map((p: { port: number }) => p.port), [8080]);
  await startServer(id, 8080);
  const p = await preview(url, "/keep.txt");
  assert.equal(p.status, 200);
  assert.equal(p.body.toString(), "persisted\n");
  const other = await exec(atoll, "rs-other", "echo ok");
  assert.equal(other.status, 200, `rs-other (${otherIp}; old address of ${id}: ${oldIp}) unreachable after the wake: ${JSON.stringify(other.body)}`);
  console.log(`# reboot: newcomer ${otherIp === oldIp ? "got" : "did not get"} the old address ${oldIp}`);
  console.log(`# reboot: control plane back in ${restartMs.toFixed(0)} ms; wake + exec ${wakeMs.toFixed(0)} ms`);

  assert.equal((await atoll.json("DELETE", `/v1/sandboxes/${id}`)).status, 200);
  assert.equal((await atoll.json("DELETE", "/v1/sandboxes/rs-other")).status, 200);
});

/** Host pid of the agent of a sandbox: the process running agent.mjs inside the sandbox's cgroup. */
function agentHostPid(cgroup: string): number | undefined {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, "utf8").includes("/opt/atoll/agent/agent.mjs")) continue;
      if (readFileSync(`/proc/${d}/cgroup`, "utf8").split("\n").some((l) => l.endsWith(`:${cgroup}`))) return Number(d);
    } catch {
      /* exited meanwhile */
    }
  }
  return undefined;
}

test("agent killed -9 inside a sandbox: entry.sh restarts it, calls keep succeeding, background processes live on", { timeout: 120_000 }, async () => {
  const id = "rs-agent";
  assert.equal((await atoll.json("PUT", `/v1/sandboxes/${id}`, small)).status, 201);
  assert.equal((await atoll.json("POST", `/v1/sandboxes/${id}/api/session/create`, { id: "work", cwd: "/tmp", env: { S_VAR: "in-session" } })).status, 200);
  assert.equal((await atoll.json("POST", `/v1/sandboxes/${id}/api/env`, { envVars: { TOP_VAR: "top" } })).status, 200);
  assert.equal((await exec(atoll, id, "echo $TOP_VAR")).stdout, "top\n");
  const bg = await atoll.json("POST", `/v1/sandboxes/${id}/api/process/start`, { command: "sleep 1000" });
  assert.equal(bg.status, 200, JSON.stringify(bg.body));
  const bgPid = (await exec(atoll, id, "pgrep -x sleep")).stdout.trim();
  assert.match(bgPid, /^\d+$/);
  const agentPid = (await exec(atoll, id, "pgrep -f agent.mjs")).stdout.trim();
  assert.match(agentPid, /^\d+$/, "exactly one agent");
  const { cgroup, ip } = await hostResources(atoll.dataDir, id);
  const hostPid = agentHostPid(cgroup);
  assert.ok(hostPid, "the agent is visible from the host");

  // Kill it from a detached process so the exec that asks for it answers first; then watch it die
  // from the host (no API call is in flight when it dies: such a call would fail, honestly).
  const k = await exec(atoll, id, `setsid sh -c 'sleep 0.2; kill -9 ${agentPid}' >/dev/null 2>&1 < /dev/null &`);
  assert.equal(k.exitCode, 0);
  await waitFor("the agent to die", () => !pidAlive(hostPid), 10_000, 5);
  // ...and for the control plane to close its pooled keep-alive sockets to the dead agent (they sit
  // in CLOSE_WAIT until it reads their FIN). A POST sent in that same instant on such a socket
  // cannot be told apart from one the agent read before dying: it gets 503, as an in-flight call
  // does (docs/lifecycle.md). Every call after that instant must succeed.
  await waitFor("pooled sockets to the dead agent to close", () => !sh("ss", ["-Htn", "state", "close-wait", "dst", `${ip}:3000`]).trim(), 5_000, 5);
  const t0 = performance.now();
  // Right away, while entry.sh is still restarting it: parallel and sequential calls all succeed.
  const parallel = await Promise.all([
    exec(atoll, id, "echo a"),
    exec(atoll, id, "echo b"),
    atoll.json("GET", `/v1/sandboxes/${id}/api/process/list`),
    atoll.json("GET", `/v1/sandboxes/${id}/api/ping`),
  ]);
  for (const r of parallel) assert.equal(r.status, 200, JSON.stringify(r.body));
  const firstMs = performance.now() - t0;
  for (let i = 0; i < 10; i++) {
    const r = await exec(atoll, id, `echo ${i}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.stdout, `${i}\n`);
  }
  const newAgent = (await exec(atoll, id, "pgrep -f agent.mjs")).stdout.trim();
  assert.match(newAgent, /^\d+$/);
  assert.notEqual(newAgent, agentPid);
  assert.equal((await exec(atoll, id, `kill -0 ${bgPid} && echo alive`)).stdout, "alive\n", "the background process survived the agent");
  // What the new agent knows, as docs/agent.md ("When the agent itself dies") states it: if one of
  // these changes, update the doc.
  const list = await atoll.json("GET", `/v1/sandboxes/${id}/api/process/list`);
  assert.deepEqual(list.body.processes, [], "docs/agent.md: the process list is empty after an agent restart");
  // The new agent lost the named session; the control plane recreates it on the agent's
  // SESSION_NOT_FOUND (as recorded: id, cwd, env) and sends the call again.
  const sess = await exec(atoll, id, "pwd; echo $S_VAR", { sessionId: "work" });
  assert.equal(sess.status, 200, JSON.stringify(sess.body));
  assert.equal(sess.stdout, "/tmp\nin-session\n");
  assert.equal((await exec(atoll, id, "echo nope", { sessionId: "never-made" })).body.code, "SESSION_NOT_FOUND");
  assert.equal((await exec(atoll, id, "echo \"[$TOP_VAR]\"")).stdout, "[]\n", "docs/agent.md: /api/env of the default session is gone");
  console.log(`# agent restart: first calls answered ${firstMs.toFixed(0)} ms after the kill`);

  assert.equal((await atoll.json("DELETE", `/v1/sandboxes/${id}`)).status, 200);
});
