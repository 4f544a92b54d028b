// The driver interface: how a sandbox is made. oci (default), later docker and kubernetes.
// The control plane owns identity, tokens, ports and lifecycle policy; a driver only runs
// sandboxes and reports where their agent listens. All methods are idempotent where noted.
import type { SandboxLimits } from "@atoll/protocol";

export interface SandboxSpec {
  id: string;
  /** Template name; "base" is the built-in image. */
  template: string;
  /** Root filesystem (lower layer) for the template. */
  rootfs: string;
  limits: SandboxLimits;
  /** Extra environment for every process in the sandbox (template env + sandbox envVars). */
  env: Record<string, string>;
  /** Working directory inside the sandbox (default /workspace). */
  workdir?: string;
  /** Shell command started before the agent (template startup, the startup.sh pattern). */
  startup?: string;
  /** Snapshot directory whose files seed the new sandbox's writable layer (fork). */
  fromSnapshotDir?: string;
  /** Whether outbound internet is allowed (NAT). Default true. */
  egress?: boolean;
}

/** Where the control plane reaches a running sandbox. */
export interface SandboxEndpoint {
  /** Address reachable from the host (an address inside the sandbox's own netns). */
  host: string;
  /** The agent's port (3000). Servers inside listen on other ports of the same host. */
  agentPort: number;
  /**
   * The sandbox's agent key, sent in AGENT_KEY_HEADER on every call to the agent and never to any
   * other port. Fresh for every start of the sandbox; the agent holds only its SHA-256.
   */
  agentKey?: string;
}

/** Resource usage of a running sandbox, from its cgroup and disk (for metrics and the dashboard). */
export interface SandboxStats {
  memoryBytes: number;
  memoryLimitBytes: number;
  /** CPU time used since start, microseconds. */
  cpuUsec: number;
  pids: number;
  diskUsedBytes: number;
  diskTotalBytes: number;
}

export type DriverState = "running" | "paused" | "stopped" | "missing";

export interface DriverSandbox {
  id: string;
  state: DriverState;
  endpoint?: SandboxEndpoint;
  /** Host-side pid of the sandbox's init, when running. */
  pid?: number;
}

export interface Driver {
  readonly name: string;
  /** Prepares host state (bridge, firewall, dirs). Called once at server start. */
  init(): Promise<void>;
  /**
   * Creates the sandbox's persistent state (writable layer, disk) if missing and starts it.
   * Resolves once the agent answers on its port. Idempotent: a running sandbox is returned as is.
   */
  start(spec: SandboxSpec): Promise<DriverSandbox>;
  /** Stops every process and frees memory; keeps the filesystem (sleep). Idempotent. */
  stop(id: string): Promise<void>;
  /** Freezes every process, memory kept (cgroup freezer). */
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  /** Stops it and removes everything: container, netns, veth, mounts, cgroups, files. Idempotent. */
  destroy(id: string): Promise<void>;
  /** Current state as the host sees it (used for adoption after a control-plane restart). */
  inspect(id: string): Promise<DriverSandbox>;
  /** Ids of every sandbox this driver has state for on this host. */
  list(): Promise<string[]>;
  /** Copies the sandbox's writable layer to destDir (a snapshot). Works running or stopped. */
  snapshot(id: string, destDir: string): Promise<{ sizeBytes: number }>;
  /** Stops everything on server shutdown without destroying (sandboxes keep running by default). */
  close(): Promise<void>;
  /**
   * Optional: prepares a template's root filesystem ahead of its first sandbox (the oci driver
   * builds its uid-shifted copy, seconds for large images), so that first start is fast.
   */
  prepareTemplate?(rootfs: string): Promise<void>;
  /** Optional: current usage of a running sandbox; undefined when it is not running. */
  stats?(id: string): Promise<SandboxStats | undefined>;
}
