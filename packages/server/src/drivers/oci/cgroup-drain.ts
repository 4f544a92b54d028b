// After the runtime deleted a container, its processes may still be exiting (a loaded host, tasks
// in job cgroups the sandbox made below its own): until they are gone the disk cannot be unmounted
// cleanly (a lazy unmount keeps the loop device attached) and the cgroup directories cannot be
// removed. This waits — bounded — until no task is left anywhere in the sandbox's cgroup tree
// (every hierarchy), SIGKILLing stragglers, then removes the tree deepest-first.
// Frozen cgroups are thawed first: a SIGKILL stays pending on a frozen task, so a job cgroup left
// frozen (an agent killed between freezing and thawing a job, or a sandbox freezing its own
// cgroups on purpose) would otherwise outlive destroy and keep the sandbox's disk and mounts.
import { readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const ROOT = "/sys/fs/cgroup";

/** The sandbox's cgroup directory in every mounted hierarchy (v1 controllers, v2 unified or root). */
function hierarchyDirs(cgroupsPath: string): string[] {
  const roots = [ROOT];
  try {
    for (const e of readdirSync(ROOT, { withFileTypes: true })) if (e.isDirectory()) roots.push(path.join(ROOT, e.name));
  } catch {
    /* no cgroupfs */
  }
  return roots.map((r) => path.join(r, cgroupsPath)).filter((d) => {
    try {
      readFileSync(path.join(d, "cgroup.procs"));
      return true;
    } catch {
      return false;
    }
  });
}

/** Every directory of a cgroup tree, deepest first; bounded by count (the sandbox may nest at will). */
function treeDeepestFirst(dir: string, limit = 10_000): string[] {
  const out: string[] = [];
  const stack = [dir];
  while (stack.length && out.length < limit) {
    const d = stack.pop()!;
    out.push(d);
    try {
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(path.join(d, e.name));
    } catch {
      /* gone */
    }
  }
  return out.reverse();
}

function tasks(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    for (const sub of treeDeepestFirst(d)) {
      try {
        for (const l of readFileSync(path.join(sub, "cgroup.procs"), "utf8").split("\n")) if (l) pids.add(Number(l));
      } catch {
        /* gone */
      }
    }
  }
  return [...pids];
}

/** Thaws every frozen cgroup of the tree (v1 freezer.state, v2 cgroup.freeze) and, on v2, cgroup.kill's it. */
function thawAndKill(dirs: string[]): void {
  const tryWrite = (file: string, v: string) => {
    try {
      writeFileSync(file, v, { flag: "r+" }); // r+: never try to create a file in cgroupfs
    } catch {
      /* not this hierarchy's file, or gone */
    }
  };
  for (const d of dirs) {
    for (const sub of treeDeepestFirst(d).reverse()) {
      tryWrite(path.join(sub, "freezer.state"), "THAWED"); // v1 freezer hierarchy only
      tryWrite(path.join(sub, "cgroup.freeze"), "0"); // v2 only
    }
    tryWrite(path.join(d, "cgroup.kill"), "1");
  }
}

/** Waits (up to timeoutMs) until the sandbox's cgroup tree holds no task, killing what is left; then removes it. */
export async function drainAndRemoveCgroup(cgroupsPath: string, timeoutMs = 5000): Promise<void> {
  const dirs = hierarchyDirs(cgroupsPath);
  if (!dirs.length) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = tasks(dirs);
    if (!left.length || Date.now() > deadline) break;
    thawAndKill(dirs);
    for (const pid of left) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const d of dirs) {
    for (const sub of treeDeepestFirst(d)) {
      try {
        rmdirSync(sub);
      } catch {
        /* still busy or gone: left for the next teardown */
      }
    }
  }
}
