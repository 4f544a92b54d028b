// The oci driver: sandboxes as crun/runc containers driven directly from Node (no daemon).
import { chmodSync, readFileSync, realpathSync, existsSync, mkdirSync, readdirSync, statSync, unlinkSync, lstatSync } from "node:fs";
import path from "node:path";
import { AtollError, ErrorCode, assertSandboxId, isValidSandboxId, type SandboxLimits } from "@atoll/protocol";
import type { Driver, DriverSandbox, SandboxSpec, SandboxStats } from "../types.js";
import { readStats } from "./stats.js";
import { freeze, freezerState, thaw } from "./freezer.js";
import { copyWritableLayer } from "./snapshot.js";
import { DiskBudget } from "./capacity.js";
import { resolveConfig, type OciDriverConfig, type ResolvedConfig } from "./config.js";
import { alive } from "./exec.js";
import { ensureHost } from "./host.js";
import { pickAgentNode } from "./agent-node.js";
import { Ipam, parseSubnet } from "./ipam.js";
import { KeyedLock } from "../../lib/keyed-lock.js";
import { netnsPath } from "./netns.js";
import { WarmPool } from "./pool.js";
import { Layout, type SandboxRecord } from "./records.js";
import { isMounted, shiftedBase } from "./rootfs.js";
import { idmapHelper } from "./idmap.js";
import { UidRanges } from "./uidrange.js";
import { privateDir } from "../../private-files.js";
import { OciRuntime } from "./runtime.js";
import { AGENT_PORT, bringUp, tearDown, wipe, type Ctx } from "./sandbox.js";

export class OciDriver implements Driver {
  readonly name = "oci";
  readonly cfg: ResolvedConfig;
  readonly layout: Layout;
  readonly runtime: OciRuntime;
  private readonly ctx: Ctx;
  private readonly lock = new KeyedLock();
  readonly pool: WarmPool;
  private inited?: Promise<void>;

  constructor(config: OciDriverConfig) {
    this.cfg = resolveConfig(config);
    this.layout = new Layout(this.cfg);
    this.runtime = new OciRuntime(this.cfg.runtimePath, this.cfg.runtimeRoot);
    this.ctx = {
      cfg: this.cfg,
      layout: this.layout,
      runtime: this.runtime,
      ipam: new Ipam(this.cfg.runDir, this.cfg.bridge, parseSubnet(this.cfg.subnet)),
      disks: new DiskBudget(this.cfg, this.layout),
      uids: new UidRanges(this.cfg.runDir, this.cfg.sandboxUidStart, this.cfg.uidCount, this.cfg.sandboxUidSlots),
    };
    this.pool = new WarmPool(this.ctx, this.lock, this.cfg.poolSize);
  }

  /** The host node binary that runs the agent in base sandboxes, if any (known after init). */
  get agentNode(): string | undefined { return this.ctx.agentNode; }

  init(): Promise<void> {
    this.inited ??= this.doInit();
    return this.inited;
  }

  private async doInit(): Promise<void> {
    const { cfg } = this;
    if (process.getuid?.() !== 0) throw new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, "Cannot start the oci driver: it must run as root");
    for (const f of ["agent.mjs", "entry.sh"]) {
      if (!existsSync(path.join(cfg.agentDir, f))) {
        throw new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot start the oci driver: ${path.join(cfg.agentDir, f)} is missing (run node scripts/build.mjs)`);
      }
    }
    privateDir(cfg.sandboxesDir);
    // This process (and what it spawns) holds the control plane's group from here on: the host
    // firewall lets only that group connect to sandboxes (host.ts). A supplementary group, so the
    // files it creates keep their usual group (idmapped layers and delegated dirs rely on it).
    const gid = await ensureHost(cfg);
    if (!process.getgroups!().includes(gid)) process.setgroups!([...process.getgroups!(), gid]);
    prepareMountRoot(cfg.runDir);
    await idmapHelper(cfg.runDir); // fails here, clearly, when it cannot be built
    // Addresses this data dir holds for sandboxes whose netns is gone (crash) go back to the pool.
    for (const { ip, owner } of this.ctx.ipam.heldBy(`${cfg.tag}/`)) {
      const name = owner.slice(cfg.tag.length + 1);
      // a netns is alive only while its nsfs bind mount exists (a plain file survives a reboot on disk-backed /run)
      if (!isMounted(netnsPath(this.layout.netns(name)))) this.ctx.ipam.release(ip, owner);
    }
    // Ranges of sandboxes that no longer exist (destroy interrupted by a crash, data dir deleted)
    // and in which nothing runs are free again.
    this.ctx.uids.reapOrphans();
    await this.pool.reapStale();
    if (existsSync(cfg.baseImage)) {
      this.ctx.agentNode = await pickAgentNode(cfg.agentNode, cfg.baseImage);
      this.ctx.agentNodeRootfs = realpathSync(cfg.baseImage);
    }
    if (cfg.poolSize > 0 && existsSync(cfg.baseImage)) {
      await shiftedBase(cfg.baseImage, cfg.uidBase, cfg.uidCount);
      this.pool.refill();
    }
  }

  private record(spec: SandboxSpec, name: string): SandboxRecord {
    return {
      name,
      id: spec.id,
      template: spec.template,
      // pinned to the image the sandbox was created from: a rebuilt base image ("current" moving)
      // must not slide a new lower layer under an existing writable layer
      rootfs: realOr(spec.rootfs || this.cfg.baseImage),
      limits: { ...this.cfg.defaults, ...(spec.limits ?? {}) },
      env: spec.env ?? {},
      startup: spec.startup,
      workdir: spec.workdir,
      egress: spec.egress !== false,
      fromSnapshotDir: spec.fromSnapshotDir,
      createdAt: new Date().toISOString(),
    };
  }

  /**
   * A (re)start takes the control plane's current settings: limits, env, startup, workdir, egress.
   * The root filesystem stays the one the sandbox was created from; the disk only grows.
   */
  private refresh(rec: SandboxRecord, spec: SandboxSpec): void {
    const limits = { ...this.cfg.defaults, ...(spec.limits ?? {}) };
    rec.limits = { ...limits, diskMiB: Math.max(limits.diskMiB, rec.limits?.diskMiB ?? 0) };
    rec.env = spec.env ?? {};
    rec.startup = spec.startup;
    rec.workdir = spec.workdir;
    rec.egress = spec.egress !== false;
  }

  /** running | paused | undefined (no live container); paused comes from the freezer itself. */
  private async liveStatus(name: string): Promise<{ status: "running" | "paused"; pid: number } | undefined> {
    // Fast path (no process spawned): the recorded init pid is alive and sits in this sandbox's
    // cgroup (so a pid reused after a reboot is not mistaken for it).
    const rec = this.layout.read(name);
    const cg = this.layout.cgroupsPath(name);
    if (rec?.ip && rec.pid && alive(rec.pid) && inCgroup(rec.pid, cg)) {
      const fz = freezerState(cg);
      return { status: fz && fz !== "thawed" ? "paused" : "running", pid: rec.pid };
    }
    const st = await this.runtime.state(this.layout.container(name));
    if (!st || (st.status !== "running" && st.status !== "paused")) return undefined;
    const fz = freezerState(this.layout.cgroupsPath(name));
    const paused = fz ? fz !== "thawed" : st.status === "paused";
    return { status: paused ? "paused" : "running", pid: st.pid };
  }

  private running(rec: SandboxRecord, pid?: number, state: "running" | "paused" = "running"): DriverSandbox {
    return { id: rec.id ?? rec.name, state, endpoint: { host: rec.ip!, agentPort: AGENT_PORT, agentKey: rec.agentKey }, pid };
  }

  async start(spec: SandboxSpec): Promise<DriverSandbox> {
    assertSandboxId(spec.id);
    checkLimits(spec.id, { ...this.cfg.defaults, ...(spec.limits ?? {}) });
    await this.init();
    let name = this.layout.resolve(spec.id);
    if (!name && this.pool.matches(spec)) {
      try {
        const rec = this.pool.claim(spec.id);
        if (rec) return this.running(rec);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        name = this.layout.resolve(spec.id);
      }
    }
    const key = name ?? spec.id;
    return this.lock.run(key, async () => {
      let rec = this.layout.read(key);
      if (!rec) {
        privateDir(this.layout.dir(key));
        rec = this.record(spec, key);
        this.layout.write(rec);
      }
      const live = rec.ip ? await this.liveStatus(key) : undefined;
      if (live) {
        if (live.status === "paused") await this.thaw(key);
        return this.running(rec, live.pid);
      }
      const st = await this.runtime.state(this.layout.container(key));
      await tearDown(this.ctx, rec, { container: !!st }); // whatever is left of a dead instance
      this.refresh(rec, spec);
      await this.bringUpMakingRoom(rec);
      this.layout.write(rec);
      return this.running(rec, rec.pid);
    });
  }

  /**
   * bringUp; when its disk does not fit (INSUFFICIENT_STORAGE), idle pool entries are removed one
   * at a time to free what their disks were promised, since a caller's sandbox matters more.
   */
  private async bringUpMakingRoom(rec: SandboxRecord): Promise<string> {
    for (;;) {
      try {
        return await bringUp(this.ctx, rec);
      } catch (e) {
        if (!(e instanceof AtollError) || e.code !== ErrorCode.INSUFFICIENT_STORAGE || !(await this.pool.evictOne())) throw e;
      }
    }
  }

  async stop(id: string): Promise<void> {
    const name = this.layout.resolve(id);
    if (!name) return;
    await this.lock.run(name, async () => {
      const rec = this.layout.read(name);
      if (!rec) return;
      // Sleep politely: SIGTERM to every process, a short grace for servers to flush (entry.sh
      // exits once the others are gone, which ends the container), then everything is killed.
      const live = rec.ip ? await this.liveStatus(name) : undefined;
      if (live?.status === "running" && this.cfg.stopGraceMs > 0) {
        await this.runtime.signalAll(this.layout.container(name), "TERM");
        const end = Date.now() + this.cfg.stopGraceMs;
        while (alive(live.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      }
      await tearDown(this.ctx, rec);
    });
  }

  private async mustBeUp(id: string, verb: string): Promise<{ name: string; rec: SandboxRecord; status: string }> {
    const name = this.layout.resolve(id);
    const rec = name ? this.layout.read(name) : undefined;
    if (!name || !rec) throw new AtollError(ErrorCode.SANDBOX_NOT_FOUND, `Cannot ${verb} sandbox ${id}: it does not exist`, { id });
    const live = await this.liveStatus(name);
    if (!live) throw new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot ${verb} sandbox ${id}: it is not running`, { id });
    return { name, rec, status: live.status };
  }

  private freeze(name: string) { return freeze(this.runtime, this.layout.container(name), this.layout.cgroupsPath(name)); }
  private thaw(name: string) { return thaw(this.runtime, this.layout.container(name), this.layout.cgroupsPath(name)); }

  async pause(id: string): Promise<void> {
    const { name } = await this.mustBeUp(id, "pause");
    await this.lock.run(name, async () => {
      if ((await this.liveStatus(name))?.status === "running") await this.freeze(name);
    });
  }

  async resume(id: string): Promise<void> {
    const { name } = await this.mustBeUp(id, "resume");
    await this.lock.run(name, async () => {
      if ((await this.liveStatus(name))?.status === "paused") await this.thaw(name);
    });
  }

  async destroy(id: string): Promise<void> {
    if (!isValidSandboxId(id)) return;
    const name = this.layout.resolve(id);
    const alias = this.layout.dir(id);
    if (name) {
      await this.lock.run(name, async () => {
        const rec = this.layout.read(name) ?? ({ name, id, egress: true } as SandboxRecord);
        await wipe(this.ctx, rec);
      });
    }
    try { if (lstatSync(alias).isSymbolicLink()) unlinkSync(alias); } catch { /* gone */ }
  }

  async inspect(id: string): Promise<DriverSandbox> {
    const name = this.layout.resolve(id);
    const rec = name ? this.layout.read(name) : undefined;
    if (!name || !rec) return { id, state: "missing" };
    const live = rec.ip ? await this.liveStatus(name) : undefined;
    if (live) return { ...this.running(rec, live.pid, live.status), id };
    return { id, state: "stopped" };
  }

  async list(): Promise<string[]> {
    if (!existsSync(this.cfg.sandboxesDir)) return [];
    return readdirSync(this.cfg.sandboxesDir).filter((n) => !n.startsWith("_") && !n.startsWith(".") && this.layout.resolve(n));
  }

  async snapshot(id: string, destDir: string): Promise<{ sizeBytes: number }> {
    const name = this.layout.resolve(id);
    if (!name || !this.layout.read(name)) throw new AtollError(ErrorCode.SANDBOX_NOT_FOUND, `Cannot snapshot sandbox ${id}: it does not exist`, { id });
    return this.lock.run(name, async () => {
      const live = await this.liveStatus(name);
      const admitted = await this.ctx.disks.admitSnapshot(id, name);
      try {
        return await copyWritableLayer(this.layout, this.cfg.uidBase, name, destDir, live?.status === "running"
          ? { before: () => this.freeze(name), after: () => this.thaw(name) }
          : live ? {} : undefined);
      } finally {
        admitted();
      }
    });
  }

  async stats(id: string): Promise<SandboxStats | undefined> {
    const name = this.layout.resolve(id);
    const rec = name ? this.layout.read(name) : undefined;
    if (!name || !rec?.ip || !alive(rec.pid)) return undefined;
    return readStats(this.layout.cgroupsPath(name), this.layout.diskMnt(name));
  }

  async prepareTemplate(rootfs: string): Promise<void> {
    await shiftedBase(rootfs, this.cfg.uidBase, this.cfg.uidCount);
  }

  async close(): Promise<void> {
    await this.pool.close();
    this.runtime.removeRootIfEmpty();
  }

  /** Test/diagnostic helper: runs a command inside a running sandbox via the runtime. */
  async execInside(id: string, args: string[], timeoutMs = 30_000) {
    const name = this.layout.resolve(id);
    if (!name) throw new AtollError(ErrorCode.SANDBOX_NOT_FOUND, `Cannot exec in sandbox ${id}: it does not exist`, { id });
    return this.runtime.exec(this.layout.container(name), args, true, timeoutMs);
  }

  /** Host-side names of a sandbox's resources (tests check that destroy leaves none behind). */
  resources(id: string) {
    const name = this.layout.resolve(id) ?? id;
    const rec = this.layout.read(name);
    return {
      name,
      dir: this.layout.dir(name),
      container: this.layout.container(name),
      netns: this.layout.netns(name),
      veth: rec?.ip ? this.layout.veth(rec.ip) : undefined,
      cgroup: this.layout.cgroupsPath(name),
      rootfs: this.layout.rootfs(name),
      mountDir: this.layout.mountDir(name),
      etc: this.layout.etc(name),
      rootUid: rec?.rootUid,
      diskMnt: this.layout.diskMnt(name),
      disk: this.layout.disk(name),
      ip: rec?.ip,
    };
  }
}

/**
 * The runtime resolves each sandbox's rootfs and bind sources as the sandbox's root (inside its user
 * namespace), so they live under <runDir>/sb/ (Layout.mountDir), not in the 0700 data dir: runDir
 * and sb/ are searchable by others (sb/ 0711: not listable), each sandbox's own dir is not.
 */
function prepareMountRoot(runDir: string) {
  const sb = path.join(runDir, "sb");
  mkdirSync(sb, { recursive: true, mode: 0o711 });
  chmodSync(sb, 0o711);
  const mode = statSync(runDir).mode;
  if (!(mode & 0o001)) chmodSync(runDir, (mode & 0o7777) | 0o001);
}

function realOr(p: string): string {
  try { return realpathSync(p); } catch { return p; }
}

/** Below these a sandbox cannot even run its agent; non-numbers are refused too. */
export const MIN_LIMITS: SandboxLimits = { cpu: 0.05, memoryMiB: 64, pids: 32, diskMiB: 32 };

function checkLimits(id: string, l: SandboxLimits): void {
  for (const k of Object.keys(MIN_LIMITS) as (keyof SandboxLimits)[]) {
    const v = l[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v < MIN_LIMITS[k]) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot start sandbox ${id}: limits.${k} must be a number ≥ ${MIN_LIMITS[k]} (got ${JSON.stringify(v)})`, { id, limit: k, min: MIN_LIMITS[k] });
    }
  }
}

/** True when /proc/<pid>/cgroup places the process under cgroupsPath (v1 or v2 lines). */
function inCgroup(pid: number, cgroupsPath: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").some((l) => l.endsWith(`:${cgroupsPath}`));
  } catch {
    return false;
  }
}
