// Code interpreter benchmark through the control plane into real sandboxes (oci driver).
//  1. first runCode in a fresh sandbox (create context + run `1+1`, timed from the moment the
//     sandbox PUT returned), python and javascript, beside exec("python3 -c 1") / exec("node -e 1")
//     in the same sandbox; plus a second (cold, not pre-warmed) python context;
//  2. per-run overhead of `1+1` in a warm context beside exec("python3 -c 1") in the same run;
//  3. first runCode in a fresh sandbox whose pre-warm has finished (pooled / created ahead);
//  4. idle memory (Pss/Private) of the agent and the spares inside a sandbox.
// Usage: node --import tsx bench/interpreter.ts  [BENCH_SANDBOXES=5 BENCH_RUNS=200]
import { SSEDecoder } from "@atoll/protocol";
import { startAtoll, type Atoll } from "../tests/e2e/harness.js";

const SANDBOXES = Number(process.env.BENCH_SANDBOXES ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);

function stats(xs: number[]): { p50: number; p95: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p95: q(0.95), n: s.length };
}
const fmt = (x: { p50: number; p95: number; n: number }) => `p50 ${x.p50.toFixed(1)} ms  p95 ${x.p95.toFixed(1)} ms  (n=${x.n})`;

async function runCode(atoll: Atoll, id: string, body: Record<string, unknown>): Promise<any[]> {
  const res = await atoll.api(`/v1/sandboxes/${id}/api/execute/code`, { method: "POST", json: body });
  if (!res.ok) throw new Error(`runCode: ${res.status} ${await res.text()}`);
  const dec = new SSEDecoder();
  const td = new TextDecoder();
  const events: any[] = [];
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) events.push(...dec.push(td.decode(c, { stream: true })));
  const err = events.find((e) => e.type === "error");
  if (err) throw new Error(`runCode error: ${JSON.stringify(err)}`);
  return events;
}

async function contextRun(atoll: Atoll, id: string, language: string, code = "1+1"): Promise<{ ms: number; ctx: string }> {
  const t0 = performance.now();
  const c = await atoll.json("POST", `/v1/sandboxes/${id}/api/contexts`, { language });
  if (c.status !== 200) throw new Error(`create context: ${c.status} ${JSON.stringify(c.body)}`);
  const ev = await runCode(atoll, id, { context_id: c.body.contextId, code });
  if (ev.find((e) => e.type === "result")?.text !== "2") throw new Error(`unexpected result ${JSON.stringify(ev)}`);
  return { ms: performance.now() - t0, ctx: c.body.contextId };
}

async function execMs(atoll: Atoll, id: string, command: string): Promise<number> {
  const t0 = performance.now();
  const r = await atoll.json("POST", `/v1/sandboxes/${id}/api/execute`, { command });
  if (r.status !== 200 || r.body.exitCode !== 0) throw new Error(`exec ${command}: ${JSON.stringify(r.body)}`);
  return performance.now() - t0;
}

/** PUT a new sandbox; returns ms. Concurrent control planes on one host can collide on sandbox
 *  addresses (other test runs): retry once and say so. */
async function create(atoll: Atoll, id: string): Promise<number> {
  let t0 = performance.now();
  let put = await atoll.json("PUT", `/v1/sandboxes/${id}`, {});
  if (put.status >= 300) {
    console.error(`(PUT ${id} failed once: ${put.body?.message}; retrying)`);
    t0 = performance.now();
    put = await atoll.json("PUT", `/v1/sandboxes/${id}`, {});
  }
  if (put.status >= 300) throw new Error(`PUT ${id}: ${JSON.stringify(put.body)}`);
  return performance.now() - t0;
}

/** Polls the agent's interpreter health until both spares are ready; returns ms waited. */
async function prewarmed(atoll: Atoll, id: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < 400; i++) {
    const h = await atoll.json("GET", `/v1/sandboxes/${id}/api/interpreter/health`);
    const st = Object.values(h.body.prewarm ?? {}) as Array<{ state: string }>;
    if (st.length === 2 && st.every((x) => x.state === "ready")) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pre-warm of ${id} did not finish`);
}

async function main(): Promise<void> {
  const atoll = await startAtoll({ poolSize: 0 });
  const ids: string[] = [];
  try {
    const first = { python: [] as number[], javascript: [] as number[], coldPython: [] as number[], execPy: [] as number[], execNode: [] as number[], put: [] as number[] };
    const prewarm: Record<string, number[]> = { python: [], javascript: [] };
    for (let i = 0; i < SANDBOXES; i++) {
      for (const lang of ["python", "javascript"] as const) {
        const id = `bench-interp-${lang.slice(0, 2)}-${i}`;
        ids.push(id);
        first.put.push(await create(atoll, id));
        first[lang].push((await contextRun(atoll, id, lang)).ms);
        if (lang === "python") first.coldPython.push((await contextRun(atoll, id, "python")).ms);
        first[lang === "python" ? "execPy" : "execNode"].push(await execMs(atoll, id, lang === "python" ? "python3 -c 1" : "node -e 1"));
        const h = await atoll.json("GET", `/v1/sandboxes/${id}/api/interpreter/health`);
        for (const [k, v] of Object.entries(h.body.prewarm as Record<string, { readyMs?: number }>)) if (v.readyMs) prewarm[k]?.push(v.readyMs);
      }
    }
    // Fresh sandboxes whose pre-warm has finished (e.g. pooled, or created at app start-up).
    const ready = { wait: [] as number[], python: [] as number[], javascript: [] as number[] };
    for (let i = 0; i < SANDBOXES; i++) {
      const id = `bench-interp-rd-${i}`;
      ids.push(id);
      await create(atoll, id);
      ready.wait.push(await prewarmed(atoll, id));
      ready.python.push((await contextRun(atoll, id, "python")).ms);
      ready.javascript.push((await contextRun(atoll, id, "javascript")).ms);
    }
    console.log(`# first runCode in a fresh sandbox (${SANDBOXES} sandboxes per language; t0 = PUT returned)`);
    console.log(`sandbox PUT (create)           ${fmt(stats(first.put))}`);
    console.log(`python first runCode           ${fmt(stats(first.python))}`);
    console.log(`python second context (cold)   ${fmt(stats(first.coldPython))}`);
    console.log(`exec("python3 -c 1")           ${fmt(stats(first.execPy))}`);
    console.log(`javascript first runCode       ${fmt(stats(first.javascript))}`);
    console.log(`exec("node -e 1")              ${fmt(stats(first.execNode))}`);
    console.log(`pre-warm ready after spawn: python ${fmt(stats(prewarm.python!))}; javascript ${fmt(stats(prewarm.javascript!))}`);
    console.log(`ratio first python runCode / exec(python3 -c 1): ${(stats(first.python).p50 / stats(first.execPy).p50).toFixed(2)}`);
    console.log(`ratio cold python context / exec(python3 -c 1): ${(stats(first.coldPython).p50 / stats(first.execPy).p50).toFixed(2)}`);
    console.log(`ratio first javascript runCode / exec(node -e 1): ${(stats(first.javascript).p50 / stats(first.execNode).p50).toFixed(2)}`);
    console.log(`\n# first runCode in a fresh sandbox once its pre-warm is ready (${SANDBOXES} sandboxes)`);
    console.log(`wait after PUT until both ready ${fmt(stats(ready.wait))}`);
    console.log(`python first runCode (spare)   ${fmt(stats(ready.python))}`);
    console.log(`javascript first runCode       ${fmt(stats(ready.javascript))}`);
    console.log(`ratio python first runCode with spare / cold python context: ${(stats(ready.python).p50 / stats(first.coldPython).p50).toFixed(3)}`);
    console.log(`ratio python first runCode with spare / exec(python3 -c 1): ${(stats(ready.python).p50 / stats(first.execPy).p50).toFixed(3)}`);
    console.log(`ratio javascript first runCode with spare / exec(node -e 1): ${(stats(ready.javascript).p50 / stats(first.execNode).p50).toFixed(3)}`);

    // Warm per-run overhead, interleaved so noise hits both sides alike.
    const id = ids[0]!;
    const py = await contextRun(atoll, id, "python");
    const js = await contextRun(atoll, id, "javascript");
    const warm = { python: [] as number[], javascript: [] as number[], execPy: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      for (const [lang, ctx] of [["python", py.ctx], ["javascript", js.ctx]] as const) {
        const t0 = performance.now();
        await runCode(atoll, id, { context_id: ctx, code: "1+1" });
        warm[lang].push(performance.now() - t0);
      }
      if (i % 5 === 0) warm.execPy.push(await execMs(atoll, id, "python3 -c 1"));
    }
    console.log(`\n# warm context: runCode("1+1") through the control plane (${RUNS} runs each)`);
    console.log(`python runCode 1+1             ${fmt(stats(warm.python))}`);
    console.log(`javascript runCode 1+1         ${fmt(stats(warm.javascript))}`);
    console.log(`exec("python3 -c 1")           ${fmt(stats(warm.execPy))}`);
    console.log(`ratio warm python runCode / exec(python3 -c 1): ${(stats(warm.python).p50 / stats(warm.execPy).p50).toFixed(3)}`);
    console.log(`ratio warm javascript runCode / exec(python3 -c 1): ${(stats(warm.javascript).p50 / stats(warm.execPy).p50).toFixed(3)}`);

    // Fresh sandbox, after its pre-warm: what an idle sandbox pays for the interpreter.
    const idle = "bench-interp-idle";
    ids.push(idle);
    await create(atoll, idle);
    await prewarmed(atoll, idle);
    const mem = await atoll.json("POST", `/v1/sandboxes/${idle}/api/execute`, {
      command:
        "for p in $(pgrep -f 'python_runner|js_runner|agent.mjs'); do grep -E '^(Rss|Pss|Private_Clean|Private_Dirty):' /proc/$p/smaps_rollup | tr -s ' ' | tr '\\n' ' '; tr '\\0' ' ' < /proc/$p/cmdline; echo; done",
    });
    console.log(`\n# memory of an idle sandbox after pre-warm (from /proc/<pid>/smaps_rollup)\n${mem.body.stdout}${mem.body.stderr ?? ""}`);
  } finally {
    await atoll.stop();
  }
}

await main();
