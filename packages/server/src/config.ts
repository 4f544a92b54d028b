// Control-plane configuration: a plain object, read from ATOLL_* environment variables with
// documented defaults (docs/control-plane.md lists them all).
import path from "node:path";
import { AtollError, ErrorCode, parseDuration, type SandboxLimits } from "@atoll/protocol";

export interface ServerConfig {
  /** ATOLL_DATA_DIR: db, api-key, sandboxes/, snapshots/, templates/. */
  dataDir: string;
  /** ATOLL_HOST / ATOLL_PORT: where the API and preview router listen. */
  host: string;
  port: number;
  /** ATOLL_API_KEY: overrides the generated key stored in <dataDir>/api-key. */
  apiKey?: string;
  /** ATOLL_PREVIEW_DOMAINS: comma-separated domains preview hosts hang off. */
  previewDomains: string[];
  /** ATOLL_DRIVER: sandbox backend. */
  driver: string;
  /** ATOLL_POOL_SIZE: pre-started base sandboxes kept warm by the driver. */
  poolSize: number;
  /** ATOLL_BASE_IMAGE: rootfs of the built-in "base" template. */
  baseImage: string;
  /** ATOLL_RUNTIME: OCI runtime for the oci driver (crun | runc). */
  runtime: "crun" | "runc";
  /** ATOLL_BRIDGE / ATOLL_SUBNET: the oci driver's host bridge and its IPv4 subnet (driver defaults when unset). */
  bridge?: string;
  subnet?: string;
  /** ATOLL_GROUP: host group the control plane runs with; only its members may open connections to sandboxes (default "atoll"). */
  group?: string;
  /** ATOLL_DEFAULT_{CPU,MEMORY_MIB,PIDS,DISK_MIB}: limits of a sandbox that asks for none. */
  defaultLimits: SandboxLimits;
  /** ATOLL_MAX_{CPU,MEMORY_MIB,PIDS,DISK_MIB}: server-wide maximums; asking for more → LIMIT_EXCEEDED. */
  maxLimits: SandboxLimits;
  /** ATOLL_DISK_RESERVE_MIB: space on the data dir's filesystem never promised to sandbox disks. */
  diskReserveMiB: number;
  /** ATOLL_DISK_OVERCOMMIT: how many times the rest may be promised (1 = never overcommit). */
  diskOvercommit: number;
  /** ATOLL_SLEEP_AFTER: default idle time before a sandbox sleeps ("10m"). */
  defaultSleepAfterMs: number;
  /** ATOLL_IDLE_CHECK_MS: how often the lifecycle sweeper looks for idle sandboxes. */
  idleCheckMs: number;
  /** ATOLL_MAX_JSON_BODY: largest JSON body of a /v1 call (file data streams through /api/*). */
  maxJsonBody: number;
  /** ATOLL_SHUTDOWN_GRACE_MS: how long in-flight requests may finish on SIGTERM. */
  shutdownGraceMs: number;
  /** ATOLL_AGENT_DIR: the built agent bind-mounted into sandboxes; default packages/agent/dist (the installed CLI sets its own copy). */
  agentDir?: string;
  /** ATOLL_LOG_LEVEL: debug | info | warn | error. */
  logLevel: "debug" | "info" | "warn" | "error";
  /**
   * ATOLL_PUBLIC_PROTOCOL=https|http: how clients reach preview URLs on non-localhost domains
   * (scheme of the URLs and X-Forwarded-Proto). Unset: URLs use https, X-Forwarded-Proto is http.
   */
  publicProtocol?: "http" | "https";
  /** ATOLL_TEMPLATE_PORT_WAIT_MS: how long creation waits for a template's first port (0 = off). */
  templatePortWaitMs: number;
  /** ATOLL_TEMPLATE_SOURCE_DIRS: colon-separated dirs templates may be imported from by path (empty = any). */
  templateSourceDirs: string[];
  /** ATOLL_OCI_TRACE=1: the oci driver prints how long each step of a sandbox start took. */
  ociTrace: boolean;
  /** ATOLL_HEAD_TIMEOUT_MS: a request head must be complete this long after it started (slowloris). */
  headTimeoutMs: number;
  /** ATOLL_MAX_CONNECTIONS_PER_IP: open connections one client address may hold (0 = no cap). */
  maxConnectionsPerIp: number;
  /** ATOLL_MAX_CONNECTIONS: open connections in all (unset: from the fd limit; 0 = no cap). */
  maxConnections?: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { cpu: 1, memoryMiB: 1024, pids: 512, diskMiB: 2048 };
export const MAX_LIMITS: SandboxLimits = { cpu: 2, memoryMiB: 8192, pids: 4096, diskMiB: 20480 };

function num(env: NodeJS.ProcessEnv, key: string, dflt: number): number {
  const raw = env[key];
  if (raw === undefined || raw === "") return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot read ${key}: ${JSON.stringify(raw)} is not a non-negative number`);
  return n;
}

function limitsFrom(env: NodeJS.ProcessEnv, prefix: string, dflt: SandboxLimits): SandboxLimits {
  return {
    cpu: num(env, `${prefix}_CPU`, dflt.cpu),
    memoryMiB: num(env, `${prefix}_MEMORY_MIB`, dflt.memoryMiB),
    pids: num(env, `${prefix}_PIDS`, dflt.pids),
    diskMiB: num(env, `${prefix}_DISK_MIB`, dflt.diskMiB),
  };
}

function overcommit(env: NodeJS.ProcessEnv): number {
  const v = num(env, "ATOLL_DISK_OVERCOMMIT", 1);
  if (v < 1) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot read ATOLL_DISK_OVERCOMMIT: ${v} is below 1 (1 = no overcommit)`);
  return v;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const dataDir = path.resolve(env.ATOLL_DATA_DIR || "/var/lib/atoll");
  const level = (env.ATOLL_LOG_LEVEL || "info") as ServerConfig["logLevel"];
  const runtime = (env.ATOLL_RUNTIME || "crun") as ServerConfig["runtime"];
  if (runtime !== "crun" && runtime !== "runc") throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot use ATOLL_RUNTIME=${runtime}: expected crun or runc`);
  const pub = env.ATOLL_PUBLIC_PROTOCOL || undefined;
  if (pub !== undefined && pub !== "http" && pub !== "https") throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot use ATOLL_PUBLIC_PROTOCOL=${pub}: expected http or https`);
  return {
    dataDir,
    host: env.ATOLL_HOST || "127.0.0.1",
    port: num(env, "ATOLL_PORT", 8787),
    apiKey: env.ATOLL_API_KEY || undefined,
    previewDomains: (env.ATOLL_PREVIEW_DOMAINS || "localhost").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean),
    driver: env.ATOLL_DRIVER || "oci",
    poolSize: num(env, "ATOLL_POOL_SIZE", 2),
    baseImage: env.ATOLL_BASE_IMAGE || path.join(dataDir, "images/base/current/rootfs"),
    runtime,
    bridge: env.ATOLL_BRIDGE || undefined,
    subnet: env.ATOLL_SUBNET || undefined,
    group: env.ATOLL_GROUP || undefined,
    defaultLimits: limitsFrom(env, "ATOLL_DEFAULT", DEFAULT_LIMITS),
    maxLimits: limitsFrom(env, "ATOLL_MAX", MAX_LIMITS),
    diskReserveMiB: num(env, "ATOLL_DISK_RESERVE_MIB", 1024),
    diskOvercommit: overcommit(env),
    defaultSleepAfterMs: parseDuration(env.ATOLL_SLEEP_AFTER || "10m"),
    idleCheckMs: num(env, "ATOLL_IDLE_CHECK_MS", 500),
    maxJsonBody: num(env, "ATOLL_MAX_JSON_BODY", 1024 * 1024),
    shutdownGraceMs: num(env, "ATOLL_SHUTDOWN_GRACE_MS", 5000),
    agentDir: env.ATOLL_AGENT_DIR || undefined,
    logLevel: ["debug", "info", "warn", "error"].includes(level) ? level : "info",
    publicProtocol: pub,
    templatePortWaitMs: num(env, "ATOLL_TEMPLATE_PORT_WAIT_MS", 10_000),
    templateSourceDirs: (env.ATOLL_TEMPLATE_SOURCE_DIRS ?? "").split(":").filter(Boolean),
    ociTrace: env.ATOLL_OCI_TRACE === "1",
    headTimeoutMs: num(env, "ATOLL_HEAD_TIMEOUT_MS", 15_000) || 15_000,
    maxConnectionsPerIp: num(env, "ATOLL_MAX_CONNECTIONS_PER_IP", 256),
    maxConnections: env.ATOLL_MAX_CONNECTIONS ? num(env, "ATOLL_MAX_CONNECTIONS", 0) : undefined,
  };
}

/** Config for tests and embedding: defaults with overrides. */
export function makeConfig(over: Partial<ServerConfig> & { dataDir: string }): ServerConfig {
  return { ...configFromEnv({ ATOLL_DATA_DIR: over.dataDir }), ...over };
}
