// oci driver figures, driver-level (no control plane): bare `crun run true` baseline, cold start
// (new sandbox → agent answers), pool claim → agent answers, wake (stop → start), pause/resume,
// destroy; medians and p95 in one run. Usage: node --import tsx bench/oci-driver.ts [--n 10]
import { parseArgs } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createOciDriver } from "../packages/server/src/drivers/oci/index.js";
import type { SandboxEndpoint } from "../packages/server/src/drivers/types.js";
import { AGENT_KEY_HEADER } from "@atoll/protocol";
import { crunBaseline } from "./lib/crun-baseline.js";

const { values } = parseArgs({ options: { n: { type: "string", default: "10" } } });
const N = Number(values.n);
const BASE = process.env.ATOLL_BASE_IMAGE ?? "/var/lib/atoll/images/base/current/rootfs";
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const spec = (id: string) => ({ id, template: "base", rootfs: BASE, limits: { cpu: 1, memoryMiB: 1024, pids: 512, diskMiB: 2048 }, env: {} });
const time = async (f: () => Promise<unknown>) => { const t = performance.now(); await f(); return performance.now() - t; };
const agentUp = async (ep: SandboxEndpoint) => { const r = await fetch(`http://${ep.host}:${ep.agentPort}/api/version`, { headers: { [AGENT_KEY_HEADER]: ep.agentKey ?? "" } }); if (r.status !== 200) throw new Error(`agent ${r.status}`); };

const rows: [string, number[]][] = [];
const base = await crunBaseline(BASE, 20);
rows.push([`bare ${base.runtime} run true`, base.samplesMs]);

const dataDir = mkdtempSync(path.join(os.tmpdir(), "atoll-bench-"));
const d = createOciDriver({ dataDir, baseImage: BASE, poolSize: 1 });
try {
  await d.init();
  const cold: number[] = [], claim: number[] = [], wake: number[] = [], pause: number[] = [], resume: number[] = [], destroy: number[] = [];
  for (let i = 0; i < N; i++) {
    cold.push(await time(async () => { const s = await d.start({ ...spec(`cold-${i}`), env: { COLD: "1" } }); await agentUp(s.endpoint!); }));
    await d.stop(`cold-${i}`);
    wake.push(await time(async () => { const s = await d.start({ ...spec(`cold-${i}`), env: { COLD: "1" } }); await agentUp(s.endpoint!); }));
    pause.push(await time(() => d.pause(`cold-${i}`)));
    resume.push(await time(() => d.resume(`cold-${i}`)));
    destroy.push(await time(() => d.destroy(`cold-${i}`)));
    await d.pool.waitReady(1, 60_000);
    claim.push(await time(async () => { const s = await d.start(spec(`warm-${i}`)); await agentUp(s.endpoint!); }));
    await d.destroy(`warm-${i}`);
  }
  rows.push(["cold start → agent answers", cold], ["pool claim → agent answers", claim], ["wake (stop → start)", wake],
    ["pause", pause], ["resume", resume], ["destroy", destroy]);
} finally {
  for (const id of await d.list()) await d.destroy(id);
  await d.close();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(`${"what".padEnd(30)}${"p50 ms".padStart(10)}${"p95 ms".padStart(10)}   (n, load ${os.loadavg()[0]!.toFixed(1)})`);
for (const [name, xs] of rows) console.log(`${name.padEnd(30)}${pct(xs, 0.5).toFixed(1).padStart(10)}${pct(xs, 0.95).toFixed(1).padStart(10)}   (${xs.length})`);
