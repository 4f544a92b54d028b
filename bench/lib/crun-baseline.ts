// Same-run baseline for the driver and time-to-interactive benches: a bare `crun run` of `true` in a
// minimal container (read-only root = the base image, no userns/netns/limits), median of n runs.
// Bench-only, so it lives with the benches rather than in the driver.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { run } from "../../packages/server/src/drivers/oci/exec.js";

export interface BaselineResult {
  runtime: string;
  samplesMs: number[];
  p50: number;
  p95: number;
}

export async function crunBaseline(rootfs: string, n = 20, runtime = "crun"): Promise<BaselineResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-baseline-"));
  const root = path.join(dir, "state");
  const spec = {
    ociVersion: "1.0.2",
    process: { terminal: false, user: { uid: 0, gid: 0 }, args: ["/bin/true"], env: ["PATH=/usr/bin:/bin"], cwd: "/" },
    root: { path: rootfs, readonly: true },
    hostname: "baseline",
    mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
    linux: { namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network" }] },
  };
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(spec));
  const samplesMs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const name = `atoll-baseline-${process.pid}-${i}`;
      const t = process.hrtime.bigint();
      await run(runtime, ["--root", root, "run", "--bundle", dir, name], { stdio: ["ignore", "ignore", "pipe"] });
      samplesMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      await run(runtime, ["--root", root, "delete", "--force", name], { allowFail: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const s = [...samplesMs].sort((a, b) => a - b);
  return { runtime, samplesMs, p50: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]! };
}
