// Start-up time of the built `atoll` command (`atoll --version`, and `atoll --help`, which loads
// every command) beside `node -e 0` and the tsx launcher from source, interleaved in one run so
// the machine's load hits all alike. Needs `node scripts/build.mjs` first.
// Wall time includes the spawn; CPU time (user + sys of the child) comes from GNU time when present.
// Usage: node --import tsx bench/cli-start.ts [--n 30]
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../tests/e2e/harness.js";

const { values } = parseArgs({ options: { n: { type: "string", default: "30" } } });
const N = Number(values.n);
const BUILT = `${REPO_ROOT}packages/cli/dist/atoll.mjs`;
if (!existsSync(BUILT)) throw new Error(`Cannot bench: ${BUILT} is missing (run node scripts/build.mjs)`);

const cases: [string, string, string[]][] = [
  ["node -e 0", process.execPath, ["-e", "0"]],
  ["atoll --version (built)", process.execPath, [BUILT, "--version"]],
  ["atoll --help (built)", process.execPath, [BUILT, "--help"]],
  ["atoll --version (tsx, source)", `${REPO_ROOT}packages/cli/bin/atoll`, ["--version"]],
];
const times = new Map<string, number[]>(cases.map(([n]) => [n, []]));
// CPU time (user + sys, 10 ms resolution) through GNU time when present: less hostage to a busy machine than wall time.
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const cpu = new Map<string, number[]>(cases.map(([n]) => [n, []]));
for (let i = 0; i < N + 2; i++) {
  for (const [name, cmd, args] of cases) {
    const t0 = process.hrtime.bigint();
    const r = TIME ? spawnSync(TIME, ["-f", "@cpu %U %S", cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] }) : spawnSync(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    if (i < 2) continue; // two warm-up rounds (page cache)
    times.get(name)!.push(ms);
    const m = /@cpu ([\d.]+) ([\d.]+)/.exec(String(r.stderr));
    if (m) cpu.get(name)!.push((Number(m[1]) + Number(m[2])) * 1000);
  }
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const base = pct(times.get("node -e 0")!, 0.5);
console.log(`${N} runs each, interleaved; load average ${(await import("node:os")).loadavg()[0]!.toFixed(2)}`);
for (const [name] of cases) {
  const xs = times.get(name)!;
  const p50 = pct(xs, 0.5);
  const c = cpu.get(name)!;
  const cpuText = c.length ? `  cpu p50 ${pct(c, 0.5).toFixed(0).padStart(5)} ms` : "";
  console.log(`${name.padEnd(30)} wall p50 ${p50.toFixed(1).padStart(7)} ms  p95 ${pct(xs, 0.95).toFixed(1).padStart(7)} ms  p50 − node -e 0: ${(p50 - base).toFixed(1).padStart(6)} ms${cpuText}`);
}
