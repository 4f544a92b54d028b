// OciDriverConfig: a plain object; the control plane maps env vars onto it.
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SandboxLimits } from "@atoll/protocol";
import { privateDir } from "../../private-files.js";

export interface OciDriverConfig {
  /** Atoll data dir (ATOLL_DATA_DIR). Sandboxes live in <dataDir>/sandboxes/. */
  dataDir: string;
  /** Base template rootfs. Default <dataDir>/images/base/current/rootfs. */
  baseImage?: string;
  /** OCI runtime: "crun" (default) or "runc"; runtimePath overrides the binary. */
  runtime?: "crun" | "runc";
  runtimePath?: string;
  /** Host bridge (default atoll0) and its IPv4 subnet (default 10.203.0.0/16, host = first address). */
  bridge?: string;
  subnet?: string;
  /** Pre-started sandboxes of the base template with default limits (default 2; 0 disables). */
  poolSize?: number;
  /** Agent bundle dir (agent.mjs + entry.sh), bind-mounted read-only at /opt/atoll/agent. */
  agentDir?: string;
  /** Default limits for sandboxes whose spec leaves them out. */
  defaults?: Partial<SandboxLimits>;
  /**
   * Host Node binary bind-mounted read-only at /opt/atoll/bin/node to run the agent (starts ≈ 4× faster
   * than bookworm's Node 18). Default: this process's node when the image has its shared libraries;
   * false: always use the image's `node`.
   */
  agentNode?: string | false;
  /**
   * Storage range: files on disk (uid-shifted template copies, every sandbox's writable layer) are
   * owned by uidBase..uidBase+uidCount-1 (default 100000 + 65536). No sandbox process runs in it:
   * each sandbox gets a range of its own and sees storage through idmapped mounts (idmap.ts).
   */
  uidBase?: number;
  uidCount?: number;
  /** Per-sandbox ranges (uidCount ids each): the first one's base (default 2^30) and how many (default 16384). */
  sandboxUidStart?: number;
  sandboxUidSlots?: number;
  /** How long start() waits for the agent (default 15 s). */
  startTimeoutMs?: number;
  /** stop(): SIGTERM first and wait this long for a clean exit before SIGKILL (default 1000; 0 = kill at once). */
  stopGraceMs?: number;
  /** Drop sandbox traffic to private/link-local ranges (LAN, cloud metadata), except DNS. Default true. */
  blockPrivateEgress?: boolean;
  /**
   * Disk admission (capacity.ts): MiB of the data dir's filesystem never promised to sandbox disks
   * (default 1024), and how many times the rest may be promised (default 1: no overcommit).
   */
  diskReserveMiB?: number;
  diskOvercommit?: number;
  /** Directory for host-global runtime state shared by every driver on the host (default /run/atoll). */
  runDir?: string;
  /** Print how long each step of a sandbox start took to stderr (ATOLL_OCI_TRACE=1). */
  trace?: boolean;
  /**
   * Host group the driver's process switches to at init (created if missing, default "atoll"). The
   * host firewall lets only sockets of this group open connections to sandbox addresses (host.ts).
   */
  group?: string;
}

export const DEFAULT_LIMITS: SandboxLimits = { cpu: 1, memoryMiB: 1024, pids: 512, diskMiB: 2048 };

export interface ResolvedConfig {
  dataDir: string;
  baseImage: string;
  runtime: "crun" | "runc";
  runtimePath: string;
  bridge: string;
  subnet: string;
  poolSize: number;
  agentDir: string;
  defaults: SandboxLimits;
  agentNode: string | false | undefined;
  uidBase: number;
  uidCount: number;
  sandboxUidStart: number;
  sandboxUidSlots: number;
  startTimeoutMs: number;
  stopGraceMs: number;
  blockPrivateEgress: boolean;
  diskReserveMiB: number;
  diskOvercommit: number;
  runDir: string;
  trace: boolean;
  group: string;
  /** Short hash of the data dir: makes container/netns/cgroup names unique per host. */
  tag: string;
  sandboxesDir: string;
  /** Runtime state root (crun --root) for this data dir. */
  runtimeRoot: string;
}

const REPO_AGENT_DIST = fileURLToPath(new URL("../../../../agent/dist", import.meta.url));

export function resolveConfig(c: OciDriverConfig): ResolvedConfig {
  const dataDir = realpathSync(privateDir(c.dataDir));
  const tag = createHash("sha256").update(dataDir).digest("hex").slice(0, 6);
  const runtime = c.runtime ?? "crun";
  const runDir = c.runDir ?? "/run/atoll";
  return {
    dataDir,
    baseImage: c.baseImage ?? path.join(dataDir, "images/base/current/rootfs"),
    runtime,
    runtimePath: c.runtimePath ?? runtime,
    bridge: c.bridge ?? "atoll0",
    subnet: c.subnet ?? "10.203.0.0/16",
    poolSize: c.poolSize ?? 2,
    agentDir: c.agentDir ?? REPO_AGENT_DIST,
    defaults: { ...DEFAULT_LIMITS, ...(c.defaults ?? {}) },
    agentNode: c.agentNode,
    uidBase: c.uidBase ?? 100000,
    uidCount: c.uidCount ?? 65536,
    sandboxUidStart: c.sandboxUidStart ?? 2 ** 30,
    sandboxUidSlots: c.sandboxUidSlots ?? 16384,
    startTimeoutMs: c.startTimeoutMs ?? 15_000,
    stopGraceMs: c.stopGraceMs ?? 1000,
    blockPrivateEgress: c.blockPrivateEgress ?? true,
    diskReserveMiB: c.diskReserveMiB ?? 1024,
    diskOvercommit: c.diskOvercommit ?? 1,
    runDir,
    trace: c.trace ?? false,
    group: c.group ?? "atoll",
    tag,
    sandboxesDir: path.join(dataDir, "sandboxes"),
    runtimeRoot: path.join(runDir, `rt-${tag}-${runtime}`),
  };
}
