// Delegation of a sandbox's own cgroup subtree to the sandbox's root, so that its agent can track
// user work by cgroup (one child cgroup per exec, process, session and interpreter: a setsid or a
// double fork cannot leave it) and kill a job for sure (freeze + SIGKILL, or cgroup.kill).
//
// Only what job tracking needs is handed over:
//   cgroup v1 (hybrid hosts): the sandbox's directories in the `pids` and `freezer` hierarchies,
//     chowned (the directory, not its files) to the sandbox's root host uid, and bind-mounted
//     read-write over the read-only /sys/fs/cgroup/{pids,freezer} of the sandbox. The sandbox can
//     then mkdir/rmdir children and move its own root-owned tasks between them (v1 checks the
//     writer's euid against the task's uid, and write access to the target's cgroup.procs).
//   cgroup v2: the sandbox's directory and its cgroup.procs (moving a task between two children
//     needs write access to their common ancestor's cgroup.procs), bind-mounted read-write at
//     /sys/fs/cgroup. No controller is enabled for the children: they only group tasks.
// Why this cannot raise or escape the sandbox's limits: every limit file of the sandbox's cgroup
// (pids.max, memory.*, cpu.*, freezer.state, subtree_control, …) stays owned by the host's root,
// which is unmapped in the sandbox's user namespace, so not even its CAP_DAC_OVERRIDE applies;
// memory and cpu hierarchies stay read-only; children's limits are hierarchical (a child can only
// be stricter); and the parent (/atoll) is neither visible (cgroup namespace, bind mount of the
// sandbox's own directory) nor writable. tests/security/kill-escape.test.ts tries each of these.
import { chownSync, mkdirSync, readFileSync } from "node:fs";

export type CgroupLayout = "v1" | "v2" | "none";

/** Which cgroup layout the host has, for job delegation: v1 needs both pids and freezer hierarchies. */
export function cgroupLayout(): CgroupLayout {
  let mounts = "";
  try {
    mounts = readFileSync("/proc/self/mounts", "utf8");
  } catch {
    return "none";
  }
  const v1 = (ctl: string) => new RegExp(`^\\S+ /sys/fs/cgroup/${ctl} cgroup \\S*\\b${ctl}\\b`, "m").test(mounts);
  if (v1("pids") && v1("freezer")) return "v1";
  if (/^\S+ \/sys\/fs\/cgroup cgroup2 /m.test(mounts)) return "v2";
  return "none";
}

/** Host directories of the sandbox's cgroup that are delegated, with where they appear inside. */
function delegated(layout: CgroupLayout, cgroupsPath: string): { host: string; inside: string }[] {
  if (layout === "v1") return ["pids", "freezer"].map((c) => ({ host: `/sys/fs/cgroup/${c}${cgroupsPath}`, inside: `/sys/fs/cgroup/${c}` }));
  if (layout === "v2") return [{ host: `/sys/fs/cgroup${cgroupsPath}`, inside: "/sys/fs/cgroup" }];
  return [];
}

/** OCI mounts that expose the delegated directories read-write (after the read-only cgroup mount). */
export function delegatedMounts(layout: CgroupLayout, cgroupsPath: string): Record<string, unknown>[] {
  return delegated(layout, cgroupsPath).map((d) => ({
    destination: d.inside,
    type: "bind",
    source: d.host,
    options: ["bind", "rw", "nosuid", "nodev", "noexec"],
  }));
}

/**
 * Creates the sandbox's cgroup directories before the runtime does (the bind mounts need them; the
 * runtime joins existing ones) and hands them to `rootUid`, the sandbox's root on the host.
 */
export function prepareDelegation(layout: CgroupLayout, cgroupsPath: string, rootUid: number): void {
  for (const d of delegated(layout, cgroupsPath)) {
    mkdirSync(d.host, { recursive: true });
    chownSync(d.host, rootUid, rootUid);
    if (layout === "v2") chownSync(`${d.host}/cgroup.procs`, rootUid, rootUid);
  }
}
