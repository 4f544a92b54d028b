// Usage of a running sandbox read straight from its cgroup (v1 or v2) and its disk mount.
import { existsSync, readFileSync, statfsSync } from "node:fs";
import type { SandboxStats } from "../types.js";

const V1 = existsSync("/sys/fs/cgroup/memory/memory.usage_in_bytes");

function num(file: string): number {
  try {
    const v = readFileSync(file, "utf8").trim();
    return v === "max" ? Number.MAX_SAFE_INTEGER : Number(v) || 0;
  } catch {
    return 0;
  }
}

function cpuUsecV2(dir: string): number {
  try {
    const m = readFileSync(`${dir}/cpu.stat`, "utf8").match(/^usage_usec (\d+)/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function readStats(cgroupsPath: string, diskMnt: string): SandboxStats {
  let disk = { diskUsedBytes: 0, diskTotalBytes: 0 };
  try {
    const s = statfsSync(diskMnt);
    disk = { diskTotalBytes: s.blocks * s.bsize, diskUsedBytes: (s.blocks - s.bfree) * s.bsize };
  } catch { /* not mounted */ }
  if (V1) {
    const cg = (ctl: string) => `/sys/fs/cgroup/${ctl}${cgroupsPath}`;
    return {
      memoryBytes: num(`${cg("memory")}/memory.usage_in_bytes`),
      memoryLimitBytes: num(`${cg("memory")}/memory.limit_in_bytes`),
      cpuUsec: Math.round(num(`${cg("cpuacct")}/cpuacct.usage`) / 1000),
      pids: num(`${cg("pids")}/pids.current`),
      ...disk,
    };
  }
  const dir = `/sys/fs/cgroup${cgroupsPath}`;
  return {
    memoryBytes: num(`${dir}/memory.current`),
    memoryLimitBytes: num(`${dir}/memory.max`),
    cpuUsec: cpuUsecV2(dir),
    pids: num(`${dir}/pids.current`),
    ...disk,
  };
}
