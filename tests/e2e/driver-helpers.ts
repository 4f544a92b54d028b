// Helpers for the oci driver e2e tests: a driver over a fresh temp data dir, spec builder, and a
// leak checker that looks at the host (netns, links, mounts, loop devices, cgroups, data dir).
import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createOciDriver, type OciDriver, type OciDriverConfig } from "../../packages/server/src/drivers/oci/index.js";
import type { SandboxEndpoint, SandboxSpec } from "../../packages/server/src/drivers/types.js";
import { AGENT_KEY_HEADER } from "@atoll/protocol";

export const BASE_IMAGE = process.env.ATOLL_BASE_IMAGE ?? "/var/lib/atoll/images/base/current/rootfs";
/** ATOLL_BRIDGE / ATOLL_SUBNET select another bridge for a test run, as they do for the server. */
export const BRIDGE = process.env.ATOLL_BRIDGE || "atoll0";
export const SUBNET = process.env.ATOLL_SUBNET || undefined;

export function tempDataDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "atoll-drv-"));
}

export function newDriver(over: Partial<OciDriverConfig> = {}): OciDriver {
  return createOciDriver({ dataDir: over.dataDir ?? tempDataDir(), baseImage: BASE_IMAGE, poolSize: 0, bridge: BRIDGE, subnet: SUBNET, ...over });
}

export function spec(id: string, over: Partial<SandboxSpec> = {}): SandboxSpec {
  return { id, template: "base", rootfs: BASE_IMAGE, limits: { cpu: 1, memoryMiB: 1024, pids: 512, diskMiB: 2048 }, env: {}, ...over };
}

/** Runs a shell command inside a sandbox (via the runtime) and returns exit code and output. */
export async function sh(d: OciDriver, id: string, script: string, timeoutMs = 30_000) {
  const r = await d.execInside(id, ["/bin/sh", "-c", script], timeoutMs);
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Resolves true if a TCP connection to host:port succeeds within ms. */
export function canConnect(host: string, port: number, ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean) => { s.destroy(); resolve(v); };
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
    s.setTimeout(ms, () => done(false));
  });
}

/** GET /api/version on a sandbox's agent, with its key (this process runs with the driver's group). */
export async function agentVersion(ep: SandboxEndpoint): Promise<{ status: number; body: any }> {
  const r = await fetch(`http://${ep.host}:${ep.agentPort}/api/version`, { headers: { [AGENT_KEY_HEADER]: ep.agentKey ?? "" } });
  return { status: r.status, body: await r.json() };
}

/** Everything on the host that mentions a sandbox's internal names; empty when nothing leaked. */
export function leftovers(res: ReturnType<OciDriver["resources"]>): string[] {
  const out: string[] = [];
  const ns = existsSync("/run/netns") ? readdirSync("/run/netns") : [];
  if (ns.includes(res.netns)) out.push(`netns ${res.netns}`);
  if (res.veth && existsSync(`/sys/class/net/${res.veth}`)) out.push(`veth ${res.veth}`);
  const mounts = readFileSync("/proc/mounts", "utf8");
  if (mounts.includes(res.dir)) out.push(`mount under ${res.dir}`);
  if (mounts.includes(res.mountDir)) out.push(`mount under ${res.mountDir}`);
  if (existsSync(res.mountDir)) out.push(`dir ${res.mountDir}`);
  const lease = res.rootUid !== undefined ? `/run/atoll/uids/${res.rootUid}` : "";
  if (lease && existsSync(lease) && readFileSync(lease, "utf8").endsWith(`/${res.name}`)) out.push(`uid range ${res.rootUid}`);
  const loops = execFileSync("losetup", ["-a"], { encoding: "utf8" });
  if (loops.includes(res.disk)) out.push(`loop ${res.disk}`);
  for (const ctl of ["memory", "pids", "cpu", "freezer", "unified", ""]) {
    const p = path.join("/sys/fs/cgroup", ctl, res.cgroup);
    if (existsSync(p)) out.push(`cgroup ${p}`);
  }
  if (existsSync(res.dir)) out.push(`dir ${res.dir}`);
  if (res.ip && existsSync(`/run/atoll/ipam/${BRIDGE}/${res.ip}`)) out.push(`ip ${res.ip}`);
  // permanent neighbour entry (only while nobody holds the address again)
  else if (res.ip && execFileSync("ip", ["neigh", "show", res.ip, "dev", BRIDGE], { encoding: "utf8" }).includes("PERMANENT")) out.push(`neigh ${res.ip}`);
  return out;
}

/** leftovers() minus what a stopped sandbox keeps until destroy: its dirs and its uid range lease. */
export function runtimeLeftovers(res: ReturnType<OciDriver["resources"]>): string[] {
  return leftovers(res).filter((l) => !l.startsWith("dir ") && !l.startsWith("uid range "));
}

export function removeDataDir(dir: string) {
  rmSync(dir, { recursive: true, force: true });
}

/** Test teardown: destroys every sandbox the driver has, closes it and removes its data dir. */
export async function disposeDriver(d: OciDriver): Promise<void> {
  for (const id of await d.list()) await d.destroy(id);
  await d.close();
  removeDataDir(d.cfg.dataDir);
}
