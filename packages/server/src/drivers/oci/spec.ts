// OCI runtime spec (config.json) for one sandbox. Written so crun/runc work on hybrid cgroup v1
// and on pure cgroup v2 hosts (the runtime maps memory/pids/cpu to whichever is present).
import { readFileSync } from "node:fs";
import { AGENT_KEY_VERIFIER_ENV, type SandboxLimits } from "@atoll/protocol";
import { delegatedMounts, type CgroupLayout } from "./cgroup-delegate.js";
import { seccompProfile } from "./seccomp.js";

export interface SpecInput {
  rootfs: string;
  hostname: string;
  cgroupsPath: string;
  uidBase: number;
  uidCount: number;
  limits: SandboxLimits;
  env: Record<string, string>;
  agentDir: string;
  /** Host files bind-mounted read-only at /etc/{resolv.conf,hosts,hostname}. */
  etc: { resolv: string; hosts: string; hostname: string };
  startup?: string;
  workdir?: string;
  /** Host node binary for the agent (bind-mounted at /opt/atoll/bin/node), if any. */
  agentNode?: string;
  /** Cgroup layout whose sandbox directories are delegated to the sandbox's root (cgroup-delegate.ts); "none" or absent: none. */
  cgroupJobs?: CgroupLayout;
  /** SHA-256 (hex) of the agent key: the only form of the key the sandbox ever holds. */
  agentKeyVerifier: string;
}

// Docker's default capability set minus CAP_NET_RAW: no packet sockets, so a sandbox cannot forge
// frames/ARP (spoof other sandboxes on the bridge); ping works through unprivileged ICMP sockets.
export const CAPS = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
  "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

const MASKED = [
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
];
const READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

export const SANDBOX_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The host's own hard/soft RLIMIT_NOFILE: a container may not exceed it (no CAP_SYS_RESOURCE). */
function hostNofile(): { soft: number; hard: number } {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const [soft, hard] = (line ?? "").trim().split(/\s{2,}/).slice(1, 3).map(Number);
    if (soft && hard) return { soft: Math.min(soft, hard, 20000), hard: Math.min(hard, 20000) };
  } catch { /* default */ }
  return { soft: 1024, hard: 4096 };
}

export function buildSpec(s: SpecInput): Record<string, unknown> {
  const nofile = hostNofile();
  const memBytes = Math.floor(s.limits.memoryMiB * 1024 * 1024);
  const period = 100_000;
  const env: Record<string, string> = {
    PATH: SANDBOX_PATH,
    HOME: "/root",
    LANG: "C.UTF-8",
    TERM: "xterm-256color",
    ...s.env,
    ATOLL_WORKDIR: s.workdir ?? "/workspace",
    // after the user's env: a sandbox's envVars cannot replace it (the agent ignores its dev switch when it is set)
    [AGENT_KEY_VERIFIER_ENV]: s.agentKeyVerifier,
  };
  if (s.startup) env.ATOLL_STARTUP = s.startup;
  if (s.agentNode) env.ATOLL_AGENT_NODE = "/opt/atoll/bin/node";
  // tells the agent it may track user work in child cgroups (agent/src/process/jobs.ts)
  const jobs = s.cgroupJobs && s.cgroupJobs !== "none" ? s.cgroupJobs : undefined;
  if (jobs) env.ATOLL_CGROUP_JOBS = jobs;
  const ro = ["bind", "ro", "nosuid", "nodev"];
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ["/usr/bin/tini", "-s", "-g", "--", "/bin/sh", "/opt/atoll/agent/entry.sh"],
      env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      cwd: "/",
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS, inheritable: [], ambient: [] },
      rlimits: [
        { type: "RLIMIT_NOFILE", hard: nofile.hard, soft: nofile.soft },
        { type: "RLIMIT_CORE", hard: 0, soft: 0 },
      ],
      noNewPrivileges: true,
      oomScoreAdj: 500,
    },
    root: { path: s.rootfs, readonly: false },
    hostname: s.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
      ...(jobs ? delegatedMounts(jobs, s.cgroupsPath) : []),
      { destination: "/opt/atoll/agent", type: "bind", source: s.agentDir, options: ["rbind", "ro", "nosuid", "nodev"] },
      ...(s.agentNode ? [{ destination: "/opt/atoll/bin/node", type: "bind", source: s.agentNode, options: ro }] : []),
      { destination: "/etc/resolv.conf", type: "bind", source: s.etc.resolv, options: ro },
      { destination: "/etc/hosts", type: "bind", source: s.etc.hosts, options: ro },
      { destination: "/etc/hostname", type: "bind", source: s.etc.hostname, options: ro },
    ],
    linux: {
      uidMappings: [{ containerID: 0, hostID: s.uidBase, size: s.uidCount }],
      gidMappings: [{ containerID: 0, hostID: s.uidBase, size: s.uidCount }],
      namespaces: [
        { type: "pid" },
        { type: "ipc" },
        { type: "uts" },
        { type: "mount" },
        { type: "user" },
        { type: "cgroup" },
        // a new netns owned by the sandbox's userns (own sysfs); the driver wires it after `create`
        { type: "network" },
      ],
      cgroupsPath: s.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        // swap = limit: no swap on top of memory (cgroup v1 memsw; v2 memory.swap.max = 0).
        memory: { limit: memBytes, swap: memBytes },
        pids: { limit: s.limits.pids },
        cpu: { quota: Math.max(1000, Math.round(s.limits.cpu * period)), period },
      },
      maskedPaths: MASKED,
      readonlyPaths: READONLY,
      seccomp: seccompProfile(),
    },
  };
}
