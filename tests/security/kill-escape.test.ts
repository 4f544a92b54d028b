// What outlives a kill (issue 16, "Weak"). Attacker: code running in a sandbox (or a careless
// command) that tries to outlive the kill the API caller asks for: a fork bomb whose background
// jobs outlive their exec and pin the pids limit, `(setsid sleep &)`, a double-forked daemon, and one
// that also clears its environment (so no env tag finds it). Expected refusal: killProcess,
// killAllProcesses, an exec timeout and a client abort leave none of them alive, the next exec
// works, and the agent survives. Second attacker: root in a sandbox abusing the cgroup directory
// delegated to it for job tracking, to raise its own memory/pids limits, to leave its cgroup, or to
// reach another sandbox's. Expected refusal: every write is denied and the limits hold.
// Real control plane, real crun sandboxes, real agent (tests/e2e/harness.ts).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { createClient, getSandbox } from "@atoll/sdk";
import { BASE_IMAGE, createSandbox, exec, hostResources, startAtoll, waitFor, type Atoll } from "../e2e/harness.js";

const ID = "sec-kill";
const BOMB = "sec-kill-bomb";
const V1 = readFileSync("/proc/self/mounts", "utf8").includes(" /sys/fs/cgroup/pids cgroup ");
let atoll: Atoll;

/** Host path of a sandbox's cgroup in one controller (v1) or in the unified tree (v2). */
async function cgroupDir(id: string, ctl: string): Promise<string> {
  const r = await hostResources(atoll.dataDir, id);
  return V1 ? `/sys/fs/cgroup/${ctl}${r.cgroup}` : `/sys/fs/cgroup${r.cgroup}`;
}

function agentCall(method: string, route: string, body?: unknown, id = ID) {
  return atoll.json(method, `/v1/sandboxes/${id}/api${route}`, body, { signal: AbortSignal.timeout(60_000) });
}

/** Processes in the sandbox whose command line is exactly `args` (e.g. "sleep 1001"). */
async function alive(args: string, id = ID): Promise<number> {
  const r = await exec(atoll, id, `ps -eo args= | grep -cxF -- ${JSON.stringify(args)} || true`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return Number(r.stdout.trim());
}

/** Waits until none of `args` is left (a kill may answer a few ms before the kernel reaps). */
async function gone(args: string[], id = ID): Promise<void> {
  await waitFor(`${args.join(", ")} to be gone`, async () => {
    for (const a of args) if ((await alive(a, id)) !== 0) return false;
    return true;
  }, 5000, 100);
}

/** Escapes that a plain process-tree or env-tag kill misses: setsid, a double fork, and a double
 *  fork into a new session with an empty environment. `n` makes each sleep's argument unique. */
function escapes(n: number): { command: string; procs: string[] } {
  const procs = [`sleep ${n}1`, `sleep ${n}2`, `/bin/sleep ${n}3`];
  const command = [
    `(setsid sleep ${n}1 &)`,
    `( ( sleep ${n}2 & ) & )`,
    `(setsid env -i /bin/sleep ${n}3 </dev/null >/dev/null 2>&1 &)`,
  ].join("; ");
  return { command, procs };
}

async function agentPid(id = ID): Promise<string> {
  const r = await exec(atoll, id, "pgrep -f /opt/atoll/agent/agent.mjs");
  return r.stdout.trim();
}

before(async () => {
  atoll = await startAtoll();
  await createSandbox(atoll, ID, { limits: { pids: 256 } });
  await createSandbox(atoll, BOMB, { limits: { pids: 96, memoryMiB: 512 } });
});
after(async () => {
  await atoll?.stop();
});

describe("escapes of a kill", () => {
  test("killProcess kills setsid, double-forked and env-cleared children of the process", async () => {
    const agent = await agentPid();
    const e = escapes(101);
    const st = await agentCall("POST", "/process/start", { command: `${e.command}; sleep 1000`, processId: "esc-kp" });
    assert.equal(st.status, 200, JSON.stringify(st.body));
    await waitFor("escapes to start", async () => (await alive(e.procs[2]!)) === 1, 5000);
    for (const p of e.procs) assert.equal(await alive(p), 1, `${p} should run before the kill`);
    const k = await agentCall("DELETE", "/process/esc-kp");
    assert.equal(k.status, 200, JSON.stringify(k.body));
    await gone(e.procs);
    assert.equal(await agentPid(), agent, "the agent survives");
  });

  test("killAllProcesses kills leftovers of finished processes, of execs and of named sessions", async () => {
    const agent = await agentPid();
    const a = escapes(201);
    const b = escapes(202);
    const c = escapes(203);
    // a finished background process that left its escapes behind
    assert.equal((await agentCall("POST", "/process/start", { command: a.command, processId: "esc-done" })).status, 200);
    // an exec of the default session, and one of a named session, that returned
    assert.equal((await exec(atoll, ID, b.command)).exitCode, 0);
    assert.equal((await agentCall("POST", "/session/create", { id: "esc-s" })).status, 200);
    assert.equal((await exec(atoll, ID, c.command, { sessionId: "esc-s" })).exitCode, 0);
    const all = [...a.procs, ...b.procs, ...c.procs];
    await waitFor("escapes to start", async () => (await alive(c.procs[2]!)) === 1, 5000);
    for (const p of all) assert.equal(await alive(p), 1, `${p} should run before kill-all`);
    const k = await agentCall("DELETE", "/process/kill-all");
    assert.equal(k.status, 200, JSON.stringify(k.body));
    await gone(all);
    // the sessions and the agent are still there
    assert.equal((await exec(atoll, ID, "echo still", { sessionId: "esc-s" })).stdout, "still\n");
    assert.equal(await agentPid(), agent, "the agent survives");
  });

  test("an exec timeout kills everything the command started", async () => {
    const e = escapes(301);
    const r = await exec(atoll, ID, `${e.command}; sleep 60`, { timeoutMs: 1500 });
    assert.equal(r.body.timedOut, true, JSON.stringify(r.body));
    await gone(e.procs);
  });

  test("a client abort of a streaming exec kills everything the command started", async () => {
    const e = escapes(401);
    const ctl = new AbortController();
    const res = await atoll.api(`/v1/sandboxes/${ID}/api/execute/stream`, { method: "POST", json: { command: `${e.command}; echo started; sleep 60` }, signal: ctl.signal });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("started")) text += new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    ctl.abort();
    await gone(e.procs);
    assert.equal((await exec(atoll, ID, "echo next")).stdout, "next\n");
  });

  test("killAllProcesses({everything}) kills shells, running commands, executors and leftovers, but not the agent", async () => {
    const agent = await agentPid();
    const e = escapes(501);
    assert.equal((await exec(atoll, ID, e.command)).exitCode, 0);
    assert.equal((await agentCall("POST", "/process/start", { command: "sleep 5201" })).status, 200);
    // a command still running in a named session when everything is killed
    assert.equal((await agentCall("POST", "/session/create", { id: "esc-busy" })).status, 200);
    const running = exec(atoll, ID, "sleep 5202", { sessionId: "esc-busy" });
    await waitFor("the running command", async () => (await alive("sleep 5202")) === 1, 5000).catch(async (e) => {
      throw new Error(`${e.message}: ${(await exec(atoll, ID, "ps -eo pid,args")).stdout} ${JSON.stringify(await Promise.race([running, new Promise((r) => setTimeout(() => r("pending"), 100))]))}`);
    });
    const k = await agentCall("DELETE", "/process/kill-all?everything=1");
    assert.equal(k.status, 200, JSON.stringify(k.body));
    assert.ok(k.body.killedPids >= 5, JSON.stringify(k.body));
    const r = await running;
    assert.notEqual(r.exitCode, 0, "the running command was killed");
    await gone([...e.procs, "sleep 5201", "sleep 5202"]);
    assert.equal(await agentPid(), agent, "the agent survives");
    // only tini, entry.sh, the agent and the new exec's own processes are left
    const ps = await exec(atoll, ID, "ps -eo pid=,args=");
    // (the interpreter's spare executors are started again by the agent at once)
    const others = ps.stdout.split("\n").filter((l) => l.trim() && !/tini|entry\.sh|agent\.mjs|_runner\.(py|mjs)|bash --noprofile|ps -eo/.test(l));
    assert.deepEqual(others, []);
    assert.equal((await exec(atoll, ID, "echo alive", { sessionId: "esc-busy" })).stdout, "alive\n");
  });

  test("the SDK's killAllProcesses({ everything: true }) reaches the same (agent kept)", async () => {
    const agent = await agentPid();
    const e = escapes(601);
    assert.equal((await exec(atoll, ID, e.command)).exitCode, 0);
    const sandbox = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), ID);
    await sandbox.startProcess("sleep 6201");
    await waitFor("escapes to start", async () => (await alive(e.procs[2]!)) === 1, 5000);
    assert.equal(await sandbox.killAllProcesses({ everything: true }), 1, "one process was running");
    await gone([...e.procs, "sleep 6201"]);
    assert.equal(await agentPid(), agent, "the agent survives");
  });
});

describe("the template's startup command", () => {
  test("runs in the boot job: spared by kill-all, killed by kill-all everything (agent kept)", async () => {
    const startup = "(setsid sleep 4241 &); exec sleep 4242";
    const reg = await atoll.json("POST", "/v1/templates", { name: "kill-boot", source: { type: "rootfs", path: BASE_IMAGE }, startup });
    assert.equal(reg.status, 201, JSON.stringify(reg.body));
    const id = "sec-kill-boot";
    await createSandbox(atoll, id, { template: "kill-boot" });
    await waitFor("the startup command", async () => (await alive("sleep 4241", id)) === 1 && (await alive("sleep 4242", id)) === 1, 10_000);
    const where = await exec(atoll, id, "for p in $(pgrep -x sleep); do grep :pids: /proc/$p/cgroup; done");
    assert.match(where.stdout, /^(\d+:pids:\/boot\n)+$/, where.stdout);
    const agent = await agentPid(id);
    assert.equal((await agentCall("DELETE", "/process/kill-all", undefined, id)).status, 200);
    assert.equal(await alive("sleep 4242", id), 1, "plain kill-all spares the startup command");
    assert.equal((await agentCall("DELETE", "/process/kill-all?everything=1", undefined, id)).status, 200);
    await gone(["sleep 4241", "sleep 4242"], id);
    assert.equal(await agentPid(id), agent, "the agent survives");
    assert.equal((await atoll.json("DELETE", `/v1/sandboxes/${id}`)).status, 200);
  });
});

describe("fork bomb", () => {
  test("a fork bomb left by an exec pins the pids limit; killAllProcesses frees it and the next exec works", async () => {
    const pidsCur = `${await cgroupDir(BOMB, "pids")}/pids.current`;
    const agent = await agentPid(BOMB);
    const base = Number(readFileSync(pidsCur, "utf8")); // tasks (threads included) of an idle sandbox
    // the exec returns at once; its background jobs fork until the sandbox's pids limit (96)
    const r = await exec(atoll, BOMB, "bomb() { bomb | bomb & }; bomb; echo launched", { timeoutMs: 10_000 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitFor("the bomb to reach the pids limit", () => Number(readFileSync(pidsCur, "utf8")) >= 90, 15_000, 50);
    const k = await agentCall("DELETE", "/process/kill-all", undefined, BOMB);
    assert.equal(k.status, 200, JSON.stringify(k.body));
    await waitFor("pids to come down", () => Number(readFileSync(pidsCur, "utf8")) <= base + 4, 10_000, 50);
    const next = await exec(atoll, BOMB, "echo works");
    assert.equal(next.stdout, "works\n", JSON.stringify(next.body));
    assert.equal(await agentPid(BOMB), agent, "the agent survives");
  });

  test("a fork bomb inside an exec with a timeout is killed by the timeout", async () => {
    const pidsCur = `${await cgroupDir(BOMB, "pids")}/pids.current`;
    const base = Number(readFileSync(pidsCur, "utf8"));
    const r = await exec(atoll, BOMB, "bomb() { bomb | bomb & }; bomb; sleep 60", { timeoutMs: 3000 });
    assert.equal(r.body.timedOut, true, JSON.stringify(r.body));
    await waitFor("pids to come down", () => Number(readFileSync(pidsCur, "utf8")) <= base + 4, 10_000, 50);
    assert.equal((await exec(atoll, BOMB, "echo works")).stdout, "works\n");
  });
});

describe("the delegated cgroup cannot be abused", () => {
  test("root in the sandbox cannot raise its own pids or memory limits, nor freeze/unfreeze the sandbox", async () => {
    const pidsMax = `${await cgroupDir(ID, "pids")}/pids.max`;
    const memDir = await cgroupDir(ID, "memory");
    const memFile = V1 ? `${memDir}/memory.limit_in_bytes` : `${memDir}/memory.max`;
    const before = { pids: readFileSync(pidsMax, "utf8"), mem: readFileSync(memFile, "utf8") };
    const inside = V1
      ? { pids: "/sys/fs/cgroup/pids/pids.max", mem: "/sys/fs/cgroup/memory/memory.limit_in_bytes", memMkdir: "/sys/fs/cgroup/memory/evil", freezer: "/sys/fs/cgroup/freezer/freezer.state" }
      : { pids: "/sys/fs/cgroup/pids.max", mem: "/sys/fs/cgroup/memory.max", memMkdir: "/sys/fs/cgroup/cgroup.subtree_control", freezer: "/sys/fs/cgroup/cgroup.freeze" };
    for (const [what, cmd] of [
      ["raise pids.max", `echo max > ${inside.pids}`],
      ["raise the memory limit", `echo 9999999999 > ${inside.mem}`],
      ["make a memory child cgroup / enable controllers", V1 ? `mkdir ${inside.memMkdir}` : `echo +memory > ${inside.memMkdir}`],
      ["chmod a limit file", `chmod 666 ${inside.pids}`],
      ["freeze its own cgroup", `echo ${V1 ? "FROZEN" : 1} > ${inside.freezer}`],
    ] as const) {
      const r = await exec(atoll, ID, `${cmd} 2>&1; echo "rc=$?"`);
      assert.doesNotMatch(r.stdout, /rc=0/, `${what} must be refused: ${r.stdout}`);
    }
    assert.equal(readFileSync(pidsMax, "utf8"), before.pids);
    assert.equal(readFileSync(memFile, "utf8"), before.mem);
    // on the host, only the directory is the sandbox's; every file in it stays the host root's
    assert.equal(statSync(pidsMax).uid, 0);
    assert.equal(statSync(memDir).uid, 0, "the memory cgroup is not delegated");
  });

  test("a child cgroup with a raised pids.max cannot exceed the sandbox's pids limit", async () => {
    const pids = V1 ? "/sys/fs/cgroup/pids" : "/sys/fs/cgroup";
    // v2: controllers are not enabled for children, so a child has no pids.max to raise at all
    // Threads count against pids too, and a thread start fails fast at the limit (a fork retries).
    const py = "import threading,time\nn=0\ntry:\n  for _ in range(1000): threading.Thread(target=time.sleep,args=(60,),daemon=True).start(); n+=1\nexcept Exception: pass\nprint('threads', n, flush=True)\ntime.sleep(60)";
    const script = [
      `mkdir -p ${pids}/evil`,
      `echo max > ${pids}/evil/pids.max 2>/dev/null; echo $BASHPID > ${pids}/evil/cgroup.procs`,
      `exec python3 -c $'${py.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`, // ANSI-C quoted
    ].join("\n");
    const pidsCur = `${await cgroupDir(ID, "pids")}/pids.current`;
    const base = Number(readFileSync(pidsCur, "utf8"));
    // The exec runs until kill-all ends the python holding its threads.
    const running = exec(atoll, ID, `( ${script} )`, { timeoutMs: 120_000 });
    await waitFor("the threads to fill the sandbox's pids limit", () => Number(readFileSync(pidsCur, "utf8")) >= 250, 30_000, 50);
    let peak = 0;
    for (const end = Date.now() + 1000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) peak = Math.max(peak, Number(readFileSync(pidsCur, "utf8")));
    assert.ok(peak <= 256, `host pids.current reached ${peak}, above the sandbox's limit of 256`);
    // and kill-all reaches a cgroup user code made itself
    assert.equal((await agentCall("DELETE", "/process/kill-all")).status, 200);
    const r = await running;
    assert.match(r.stdout, /threads \d+/, JSON.stringify(r.body));
    assert.ok(Number(r.stdout.match(/threads (\d+)/)![1]) < 256, r.stdout);
    // (the agent may have started its thread pool meanwhile: a margin, far below the 250 threads)
    await waitFor("pids to come down", () => Number(readFileSync(pidsCur, "utf8")) <= base + 16, 10_000, 50);
  });

  test("root in the sandbox cannot move itself out of its cgroup, into the agent's, or see another sandbox's", async () => {
    const pids = V1 ? "/sys/fs/cgroup/pids" : "/sys/fs/cgroup";
    const r = await exec(atoll, ID, [
      // the sandbox's own cgroup holds the agent: not writable for user code on v1
      V1 ? `echo $$ > ${pids}/cgroup.procs 2>/dev/null && echo moved-to-agent-cgroup` : "true",
      // the parent is not reachable: the mount shows the sandbox's own cgroup as the root
      `ls -d ${pids}/../atoll ${pids}/../../atoll 2>/dev/null && echo sees-parent`,
      `mkdir -p /tmp/cg && mount -t cgroup -o pids none /tmp/cg 2>/dev/null && echo mounted-v1`,
      `mount -t cgroup2 none /tmp/cg 2>/dev/null && echo mounted-v2`,
      `find /sys/fs/cgroup -maxdepth 3 -name '*${BOMB}*' 2>/dev/null | grep -q . && echo sees-other-sandbox`,
      "echo done",
    ].join("; "));
    assert.equal(r.stdout.trim(), "done", r.stdout);
    // from the host: every process of the sandbox is still below its own cgroup
    const cg = (await hostResources(atoll.dataDir, ID)).cgroup;
    const procs = readFileSync(`${await cgroupDir(ID, "pids")}/cgroup.procs`, "utf8").split("\n").filter(Boolean);
    assert.ok(procs.length > 0);
    for (const p of procs) {
      const line = readFileSync(`/proc/${p}/cgroup`, "utf8").split("\n").find((l) => (V1 ? /:pids:/.test(l) : l.startsWith("0::")));
      assert.ok(line?.includes(cg), `pid ${p} is in ${line}`);
    }
  });
});
