// Time to interactive: new sandbox id → PUT /v1/sandboxes/:id → first exec("echo hi") result,
// p50/p95 over N sandboxes through the real control plane, beside a bare `crun run … true`
// measured in the same run. Usage: node --import tsx bench/tti.ts [--n 30] [--pool 2] [--gap-ms 1500] [--cold-n 10]
//   --pool:   warm-pool size (pre-started sandboxes); --gap-ms paces creates so the pool can refill
//   --cold-n: also measure N creates with the pool disabled (0 skips)
import { parseArgs } from "node:util";
import { crunBaseline } from "./lib/crun-baseline.js";
import { BASE_IMAGE, startAtoll, type Atoll } from "../tests/e2e/harness.js";

const { values } = parseArgs({
  options: { n: { type: "string", default: "30" }, pool: { type: "string", default: "2" }, "gap-ms": { type: "string", default: "1500" }, "cold-n": { type: "string", default: "10" } },
});
const N = Number(values.n);
const POOL = Number(values.pool);
const GAP = Number(values["gap-ms"]);
const COLD_N = Number(values["cold-n"]);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};
const fmt = (x: number) => x.toFixed(1).padStart(8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(atoll: Atoll, n: number, prefix: string, gapMs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    const t0 = performance.now();
    const put = await atoll.json("PUT", `/v1/sandboxes/${id}`, {});
    if (put.status !== 201) throw new Error(`PUT ${id}: ${put.status} ${JSON.stringify(put.body)}`);
    const r = await atoll.json("POST", `/v1/sandboxes/${id}/api/execute`, { command: "echo hi" });
    const ms = performance.now() - t0;
    if (r.body?.stdout !== "hi\n") throw new Error(`exec in ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    samples.push(ms);
    await atoll.json("DELETE", `/v1/sandboxes/${id}`);
    if (gapMs) await sleep(gapMs);
  }
  return samples;
}

const rows: [string, number[]][] = [];
const base = await crunBaseline(BASE_IMAGE, 20);
rows.push([`bare ${base.runtime} run true`, base.samplesMs]);

let atoll = await startAtoll({ poolSize: POOL });
try {
  await sleep(Math.max(GAP, 3000)); // let the warm pool fill before the first create
  rows.push([`atoll TTI (pool ${POOL})`, await measure(atoll, N, "tti-warm", GAP)]);
} finally {
  await atoll.stop();
}
if (COLD_N > 0) {
  atoll = await startAtoll({ poolSize: 0 });
  try {
    rows.push(["atoll TTI (no pool)", await measure(atoll, COLD_N, "tti-cold", 0)]);
  } finally {
    await atoll.stop();
  }
}

console.log(`\ntime to interactive (PUT new id → exec("echo hi") result), ms`);
console.log(`${"what".padEnd(28)}${"n".padStart(5)}${"p50".padStart(8)}${"p95".padStart(8)}${"× bare p50".padStart(12)}`);
const b50 = pct(base.samplesMs, 0.5);
for (const [name, xs] of rows) {
  console.log(`${name.padEnd(28)}${String(xs.length).padStart(5)}${fmt(pct(xs, 0.5))}${fmt(pct(xs, 0.95))}${(pct(xs, 0.5) / b50).toFixed(2).padStart(12)}`);
}
console.log(`targets: p50 ≤ 50 ms, p95 ≤ 100 ms`);
