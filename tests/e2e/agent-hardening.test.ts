// Agent hardening in a real sandbox (oci driver, crun, user namespace): user commands see none of
// Atoll's ATOLL_* settings, user processes run at a higher oom_score_adj than the agent, and a
// memory hog started through the agent is what the OOM killer ends, not the agent (same pid after).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { disposeDriver, newDriver, sh, spec } from "./driver-helpers.js";
import type { OciDriver } from "../../packages/server/src/drivers/oci/index.js";
import type { SandboxEndpoint } from "../../packages/server/src/drivers/types.js";
import { AGENT_KEY_HEADER } from "@atoll/protocol";

const STARTUP = "{ env; echo adj=$(cat /proc/self/oom_score_adj); } >/tmp/startup.out; exec sleep 600";

async function agent(ep: SandboxEndpoint, method: string, route: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { [AGENT_KEY_HEADER]: ep.agentKey ?? "" };
  if (body) headers["content-type"] = "application/json";
  const r = await fetch(`http://${ep.host}:${ep.agentPort}${route}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const j = await r.json();
  if (r.status !== 200) throw new Error(`${route} → ${r.status} ${JSON.stringify(j)}`);
  return j;
}

const atollNames = (env: string) => env.split("\n").map((l) => l.split("=")[0]!).filter((k) => k.startsWith("ATOLL_")).sort();

describe("agent hardening in a real sandbox", () => {
  let d: OciDriver;
  let host: SandboxEndpoint;
  before(async () => {
    d = newDriver();
    await d.init();
    const s = await d.start(spec("harden", { limits: { cpu: 1, memoryMiB: 160, pids: 512, diskMiB: 256 }, startup: STARTUP, env: { USER_VAR: "u" } }));
    host = s.endpoint!;
  });
  after(async () => {
    await disposeDriver(d);
  });

  /** The agent's pid and oom_score_adj, found by its command line. */
  async function agentProc(): Promise<{ pid: number; adj: number }> {
    const r = await sh(d, "harden", `for p in /proc/[0-9]*; do if tr '\\0' ' ' <$p/cmdline 2>/dev/null | grep -q '^[^ ]*node[^ ]* /opt/atoll/agent/agent.mjs'; then echo "\${p#/proc/} $(cat $p/oom_score_adj)"; fi; done`);
    const lines = r.out.trim().split("\n").filter(Boolean);
    assert.equal(lines.length, 1, r.out);
    const [pid, adj] = lines[0]!.split(" ").map(Number);
    return { pid: pid!, adj: adj! };
  }

  test("no ATOLL_* settings in exec, background processes or the startup command", async () => {
    const e = await agent(host, "POST", "/api/execute", { command: "env" });
    assert.deepEqual(atollNames(e.stdout), ["ATOLL_EXEC_ID"]);
    assert.match(e.stdout, /^USER_VAR=u$/m);
    const p = await agent(host, "POST", "/api/process/start", { command: "env" });
    await agent(host, "GET", `/api/process/${p.processId}/wait?timeoutMs=10000`);
    const logs = await agent(host, "GET", `/api/process/${p.processId}/logs`);
    assert.deepEqual(atollNames(logs.stdout), ["ATOLL_PROCESS_ID", "ATOLL_PROCESS_KEY"]);
    const startup = (await sh(d, "harden", "cat /tmp/startup.out")).out;
    assert.deepEqual(atollNames(startup), []);
    assert.match(startup, /^USER_VAR=u$/m);
  });

  test("oom_score_adj: agent at the sandbox's value, user processes 500 higher (max 1000)", async () => {
    const a = await agentProc();
    const want = Math.min(1000, a.adj + 500);
    assert.ok(want > a.adj, `agent at ${a.adj}`);
    const e = await agent(host, "POST", "/api/execute", { command: "cat /proc/$$/oom_score_adj /proc/self/oom_score_adj" });
    assert.deepEqual(e.stdout.trim().split("\n").map(Number), [want, want]);
    const p = await agent(host, "POST", "/api/process/start", { command: "cat /proc/self/oom_score_adj" });
    await agent(host, "GET", `/api/process/${p.processId}/wait?timeoutMs=10000`);
    assert.equal(Number((await agent(host, "GET", `/api/process/${p.processId}/logs`)).stdout), want);
    assert.match((await sh(d, "harden", "cat /tmp/startup.out")).out, new RegExp(`^adj=${want}$`, "m"));
  });

  test("many small memory users (each smaller than the agent): the OOM killer ends them, not the agent", async () => {
    // With equal oom_score_adj the agent (the largest process) would be the victim here; with
    // users 500 higher it never is. (Checked: with ATOLL_AGENT_USER_OOM_SCORE_ADJ=500 in the
    // sandbox env, i.e. no raise, the agent is killed in this test.)
    const before = await agentProc();
    const py = "import time; a = b\"x\" * (8 << 20); time.sleep(3)";
    const r = await agent(host, "POST", "/api/execute", { command: `for i in $(seq 14); do (python3 -c '${py}'; echo "rc=$?") & done; wait`, timeoutMs: 60_000 });
    const rcs = r.stdout.trim().split("\n");
    assert.equal(rcs.length, 14, r.stdout + r.stderr);
    assert.ok(rcs.filter((l: string) => l === "rc=137").length >= 1, `some were OOM-killed: ${rcs.join(" ")}`);
    assert.deepEqual(await agentProc(), before, "the agent was not killed");
  });

  test("a memory hog run through the agent is OOM-killed; the agent is not (same pid, still answers)", async () => {
    const before = await agentProc();
    const r = await agent(host, "POST", "/api/execute", { command: "python3 -c 'a = bytearray(600 * 1024 * 1024); print(\"survived\")'", timeoutMs: 60_000 });
    assert.equal(r.exitCode, 137, JSON.stringify(r));
    assert.ok(!r.stdout.includes("survived"));
    assert.deepEqual(await agentProc(), before, "the agent was not killed");
    assert.equal((await agent(host, "POST", "/api/execute", { command: "echo ok" })).stdout, "ok\n");
  });
});
