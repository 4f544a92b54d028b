// Bringing one sandbox up and down: disk -> overlay -> netns -> config.json -> runtime -> agent.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync, chownSync, openSync, readSync, closeSync, fstatSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { AGENT_KEY_HEADER, AtollError, ErrorCode } from "@atoll/protocol";
import { freeBytes, hostDiskFull, isDiskFull } from "../../disk-full.js";
import type { DiskBudget } from "./capacity.js";
import type { ResolvedConfig } from "./config.js";
import { alive, run } from "./exec.js";
import { hostNameservers, setEgress } from "./host.js";
import { Ipam, parseSubnet } from "./ipam.js";
import { createNetns, deleteNetns } from "./netns.js";
import { rootHostUid, type Layout, type SandboxRecord } from "./records.js";
import { idmapHelper, mountIdmappedOverlay } from "./idmap.js";
import { ensureDisk, isMounted, mountDisk, mountsUnder, shiftedBase, unmount } from "./rootfs.js";
import { privateDir, writePrivateFile } from "../../private-files.js";
import type { UidRanges } from "./uidrange.js";
import type { OciRuntime } from "./runtime.js";
import { buildSpec } from "./spec.js";
import { cgroupLayout, prepareDelegation } from "./cgroup-delegate.js";
import { drainAndRemoveCgroup } from "./cgroup-drain.js";

export const AGENT_PORT = 3000;
export const HOSTNAME = "sandbox";

export interface Ctx {
  cfg: ResolvedConfig;
  /** Host node for the agent when usable in the base image (see agent-node.ts)... */
  agentNode?: string;
  /** ...whose real path is this (other templates run the agent with their own node). */
  agentNodeRootfs?: string;
  layout: Layout;
  runtime: OciRuntime;
  ipam: Ipam;
  /** Admission of new and grown disks against the data dir's free space (capacity.ts). */
  disks: DiskBudget;
  uids: UidRanges;
}

/** Last bytes of the sandbox console log (runtime errors, agent output) for error reports. */
export function logTail(file: string, bytes = 2048): string {
  try {
    const fd = openSync(file, "r");
    try {
      const size = fstatSync(fd).size;
      const len = Math.min(bytes, size);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - len);
      return buf.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
}

function writeEtc(ctx: Ctx, rec: SandboxRecord, ip: string) {
  const dir = ctx.layout.etc(rec.name);
  mkdirSync(dir, { recursive: true });
  const ns = hostNameservers();
  // A loopback resolver (e.g. systemd-resolved's 127.0.0.53) is unreachable from a sandbox.
  const servers = ns.usable.length ? ns.usable : ["1.1.1.1"];
  const note = ns.loopback.length && !ns.usable.length ? "# host resolver is on loopback; using a public resolver\n" : "";
  writeFileSync(path.join(dir, "resolv.conf"), note + servers.map((s) => `nameserver ${s}`).join("\n") + "\n");
  writeFileSync(path.join(dir, "hosts"), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${HOSTNAME}\n`);
  writeFileSync(path.join(dir, "hostname"), `${HOSTNAME}\n`);
}

/**
 * The sandbox's own host id range: the recorded one while its lease is (or again can be) this
 * sandbox's, else a new one. Records from before per-sandbox ranges (rootUid unset, or the storage
 * range itself) get a new one; their files need no change (storage stays in the storage range).
 */
function claimRange(ctx: Ctx, rec: SandboxRecord): number {
  const owner = ctx.layout.ipOwner(rec.name);
  const dir = ctx.layout.dir(rec.name);
  if (rec.rootUid !== undefined && ctx.uids.keep(rec.rootUid, owner, dir)) return rec.rootUid;
  return ctx.uids.allocate(owner, dir);
}

/** <runDir>/sb/<tag>-<name>: root:<sandbox root gid> 0710, so only that sandbox's root traverses it. */
function prepareMountDir(ctx: Ctx, name: string, rootUid: number): void {
  const dir = ctx.layout.mountDir(name);
  mkdirSync(dir, { recursive: true, mode: 0o710 });
  chownSync(dir, 0, rootUid);
  chmodSync(dir, 0o710);
}

/** Makes sure /workspace exists (template may lack it), owned by the sandbox's root. */
function ensureWorkspace(ctx: Ctx, lower: string, upper: string) {
  if (existsSync(path.join(lower, "workspace")) || existsSync(path.join(upper, "workspace"))) return;
  mkdirSync(path.join(upper, "workspace"), { mode: 0o755 });
  chownSync(path.join(upper, "workspace"), ctx.cfg.uidBase, ctx.cfg.uidBase);
}


/**
 * Polls the agent (TCP connect + HTTP request with the key) until it answers 200, the container
 * dies, or the deadline passes. A 401 (wrong key) keeps polling and ends in a start failure.
 */
async function waitForAgent(ip: string, key: string, pid: number, deadline: number): Promise<void> {
  let n = 0;
  for (;;) {
    // TCP connect, then one HTTP request on the same socket: ready = the agent answers HTTP.
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: ip, port: AGENT_PORT });
      let settled = false;
      const done = (v: boolean) => { if (settled) return; settled = true; s.destroy(); resolve(v); };
      s.once("connect", () => {
        s.setTimeout(2000);
        s.write(`GET /api/version HTTP/1.1\r\nHost: ${ip}\r\n${AGENT_KEY_HEADER}: ${key}\r\nConnection: close\r\n\r\n`);
      });
      s.once("data", (d: Buffer) => done(/^HTTP\/1\.[01] 200 /.test(d.subarray(0, 13).toString("latin1"))));
      s.once("error", () => done(false));
      s.once("end", () => done(false));
      s.setTimeout(200, () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`agent did not answer on ${ip}:${AGENT_PORT} in time`);
    if (++n % 10 === 0 && !alive(pid)) throw new Error("the sandbox exited during start");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Starts a prepared-or-new sandbox. Caller holds the per-name lock. Returns its address. */
export async function bringUp(ctx: Ctx, rec: SandboxRecord): Promise<string> {
  const { cfg, layout } = ctx;
  const name = rec.name;
  const t0 = Date.now();
  privateDir(layout.dir(name));
  let ip: string | undefined;
  // cfg.trace (ATOLL_OCI_TRACE=1) prints how long each step of a start took (ms since start).
  const trace = cfg.trace ? (step: string) => console.error(`[oci] ${name} ${step} +${Date.now() - t0}ms`) : () => {};
  try {
    if (!existsSync(rec.rootfs)) {
      throw new AtollError(ErrorCode.TEMPLATE_NOT_FOUND, `Cannot start sandbox ${rec.id ?? name}: template rootfs ${rec.rootfs} does not exist${rec.template === "base" ? " (build it: images/base/build.sh)" : ""}`, { id: rec.id ?? name, template: rec.template });
    }
    rec.rootUid = claimRange(ctx, rec);
    prepareMountDir(ctx, name, rec.rootUid);
    const lower = await shiftedBase(rec.rootfs, cfg.uidBase, cfg.uidCount);
    trace("lower");
    ctx.disks.assertHeadroom(rec.id ?? name);
    const admitted = await ctx.disks.admit(rec.id ?? name, name, rec.limits.diskMiB);
    try { await ensureDisk(layout.disk(name), rec.limits.diskMiB); } finally { admitted(); }
    const { upper } = await mountDisk(layout.disk(name), layout.diskMnt(name), cfg.uidBase);
    // Console log (agent output, runtime errors) lives on the sandbox's own disk: bounded by its size.
    writeFileSync(layout.log(name), "", { mode: 0o600 });
    if (!rec.seeded) {
      const from = rec.fromSnapshotDir;
      if (from) {
        if (!existsSync(from)) throw new AtollError(ErrorCode.SNAPSHOT_NOT_FOUND, `Cannot start sandbox: snapshot dir ${from} does not exist`);
        await run("cp", ["-a", `${from}/.`, `${upper}/`], { timeoutMs: 600_000 });
      }
      rec.seeded = true;
    }
    trace("disk");
    ensureWorkspace(ctx, lower, upper);
    if (!isMounted(layout.rootfs(name))) {
      await mountIdmappedOverlay({
        helper: await idmapHelper(cfg.runDir),
        storageBase: cfg.uidBase,
        sandboxBase: rec.rootUid,
        count: cfg.uidCount,
        lower,
        disk: layout.diskMnt(name),
        stage: layout.stage(name),
        target: layout.rootfs(name),
      });
    }
    trace("overlay");
    const etc = layout.etc(name);
    // the sandbox's own cgroup subtree, handed to its root for the agent's job tracking
    const cgJobs = cgroupLayout();
    prepareDelegation(cgJobs, layout.cgroupsPath(name), rootHostUid(rec)!);
    // A fresh agent key for every start: a key read from an earlier instance opens nothing now.
    rec.agentKey = randomBytes(32).toString("base64url");
    const spec = buildSpec({
      rootfs: layout.rootfs(name),
      hostname: HOSTNAME,
      cgroupsPath: layout.cgroupsPath(name),
      uidBase: rec.rootUid,
      uidCount: cfg.uidCount,
      limits: rec.limits,
      env: rec.env,
      agentDir: cfg.agentDir,
      etc: { resolv: path.join(etc, "resolv.conf"), hosts: path.join(etc, "hosts"), hostname: path.join(etc, "hostname") },
      startup: rec.startup,
      workdir: rec.workdir,
      // the host node is checked against the base image; other templates use their own node
      agentNode: rec.rootfs === ctx.agentNodeRootfs ? ctx.agentNode : undefined,
      cgroupJobs: cgJobs,
      agentKeyVerifier: createHash("sha256").update(rec.agentKey, "utf8").digest("hex"),
    });
    writePrivateFile(path.join(layout.dir(name), "config.json"), JSON.stringify(spec)); // holds the env: 0600
    const sn = parseSubnet(cfg.subnet);
    ip = ctx.ipam.allocate(layout.ipOwner(name));
    rec.ip = ip;
    layout.write(rec);
    writeEtc(ctx, rec, ip);
    const container = layout.container(name);
    const pidFile = path.join(layout.dir(name), "init.pid");
    rmSync(pidFile, { force: true });
    const c = await ctx.runtime.create(container, layout.dir(name), layout.log(name), pidFile);
    if (c.code !== 0) throw new Error(`${cfg.runtime} create exited ${c.code}`);
    const pid = Number(readFileSync(pidFile, "utf8").trim()) || ((await ctx.runtime.state(container))?.pid ?? 0);
    if (!pid) throw new Error(`${cfg.runtime} state shows no init process`);
    rec.pid = pid;
    trace("create");
    await createNetns({ netns: layout.netns(name), veth: layout.veth(ip), ip, prefix: sn.prefix, gateway: sn.gateway, bridge: cfg.bridge }, pid);
    if (!rec.egress) await setEgress(cfg, ip, false);
    trace("netns");
    const r = await ctx.runtime.start(container);
    if (r.code !== 0) throw new Error(`${cfg.runtime} start exited ${r.code}: ${r.stderr.trim()}`);
    trace("runtime");
    await waitForAgent(ip, rec.agentKey, pid, Date.now() + cfg.startTimeoutMs);
    trace("agent");
    return ip;
  } catch (e) {
    const log = logTail(layout.log(name)).trim(); // read before teardown unmounts the disk
    await tearDown(ctx, rec).catch(() => {});
    if (e instanceof AtollError) throw e;
    if (isDiskFull(e)) throw spaceError(ctx, rec.id ?? name, e);
    const last = log.split("\n").slice(-3).join(" | ").slice(-300);
    throw new AtollError(ErrorCode.SANDBOX_START_FAILED, `Cannot start sandbox ${rec.id ?? name}: ${(e as Error).message}${last ? ` (output: ${last})` : ""}`, {
      id: rec.id ?? name,
      runtime: cfg.runtime,
      stderr: log,
    });
  }
}

/**
 * ENOSPC during a start: the host's data dir is full (HOST_DISK_FULL) unless the host still has
 * its reserve free, in which case it was the sandbox's own disk (e.g. a snapshot bigger than it).
 */
function spaceError(ctx: Ctx, id: string, e: unknown): AtollError {
  let free = 0;
  try { free = freeBytes(ctx.cfg.sandboxesDir); } catch { /* treat as full */ }
  if (free < ctx.cfg.diskReserveMiB * 1024 * 1024) return hostDiskFull(`start sandbox ${id}`, e, { id });
  return new AtollError(ErrorCode.NO_SPACE, `Cannot start sandbox ${id}: its disk is full (${(e as Error).message.slice(0, 200)}); raise limits.diskMiB`, { id });
}

/** Stops processes and frees the container, netns, address and mounts; keeps the files. Idempotent. */
export async function tearDown(ctx: Ctx, rec: SandboxRecord, opts: { container?: boolean } = {}): Promise<void> {
  const { layout, cfg } = ctx;
  const name = rec.name;
  // opts.container=false: the caller knows no container exists (skips two runtime calls)
  // The job cgroups the sandbox made below its own (cgroup-delegate.ts) and processes still exiting
  // keep the cgroups busy and the disk mounted (only lazily unmountable); runc also refuses to
  // delete a cgroup with children. So between delete attempts and after, the whole tree is drained
  // (frozen cgroups thawed, stragglers killed, bounded) and removed deepest-first.
  const dropJobs = () => drainAndRemoveCgroup(layout.cgroupsPath(name));
  if (opts.container !== false) await ctx.runtime.remove(layout.container(name), dropJobs);
  await dropJobs();
  // the rootfs, and transient layer mounts an interrupted idmap helper may have left in stage/
  for (const m of [layout.rootfs(name), ...mountsUnder(layout.mountDir(name))]) await unmount(m);
  await unmount(layout.legacyRootfs(name));
  await unmount(layout.diskMnt(name));
  const ip = rec.ip;
  if (ip) {
    // The recorded address may be stale: after a reboot (/run wiped) its lease is gone and another
    // sandbox may hold the address now. The veth, neighbour entry and egress rules named after it
    // are then the other sandbox's: only our own netns (by name) is removed.
    if (ctx.ipam.owner(ip) === layout.ipOwner(name)) {
      await deleteNetns(layout.netns(name), layout.veth(ip), ip, cfg.bridge);
      if (!rec.egress) await setEgress(cfg, ip, true);
    } else {
      await deleteNetns(layout.netns(name), "none");
    }
    ctx.ipam.release(ip, layout.ipOwner(name));
    rec.ip = undefined;
    rec.pid = undefined;
    rec.agentKey = undefined;
    // also on a full host disk (in place): a stale address and pid would make the next start take
    // this dead sandbox for a running one; destroy must work when nothing else does
    if (existsSync(layout.dir(name))) layout.writeEvenIfFull(rec);
  } else {
    await deleteNetns(layout.netns(name), "none");
  }
}

/** Removes everything of the sandbox, files included. */
export async function wipe(ctx: Ctx, rec: SandboxRecord): Promise<void> {
  await tearDown(ctx, rec);
  const { layout } = ctx;
  const dir = layout.dir(rec.name);
  if ([layout.legacyRootfs(rec.name), layout.diskMnt(rec.name)].some(isMounted) || mountsUnder(layout.mountDir(rec.name)).length) {
    throw new Error(`Cannot remove ${dir}: still mounted`);
  }
  rmSync(dir, { recursive: true, force: true });
  rmSync(layout.mountDir(rec.name), { recursive: true, force: true });
  // no process of the sandbox is left (torn down above): its range may go to another sandbox
  if (rec.rootUid !== undefined) ctx.uids.release(rec.rootUid, layout.ipOwner(rec.name));
}
