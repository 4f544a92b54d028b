// The sandbox manager: registry (SQLite rows), get-or-create, wake on demand, sleep when idle,
// pause/resume, snapshots, destroy, adoption after a restart. Every state change of one id runs
// under a per-id lock; the hot path (endpoint of a running sandbox) takes no lock and no I/O.
import { EventEmitter } from "node:events";
import { existsSync, rmSync } from "node:fs";
import { privateDir } from "../private-files.js";
import path from "node:path";
import {
  AtollError,
  ErrorCode,
  assertEnvKeptBounds,
  assertSandboxId,
  envBytes,
  trimEnvToBounds,
  type CreateSandboxRequest,
  type SandboxInfo,
  type SandboxStatus,
  type SnapshotInfo,
  type UpdateSandboxRequest,
} from "@atoll/protocol";
import type { SandboxRuntime } from "../contracts.js";
import type { Driver, SandboxEndpoint } from "../drivers/types.js";
import type { ServerConfig } from "../config.js";
import type { Logger } from "../log.js";
import type { SandboxRow, Stores } from "../store/index.js";
import type { TemplateRegistry } from "../templates/registry.js";
import { KeyedLock } from "../lib/keyed-lock.js";
import { resolveLimits, validateEnv, validateKeepAlive, validateName, validateOptionalString, validateSleepAfter } from "./options.js";
import { BASE_TEMPLATE, buildSpec } from "./spec.js";
import { IdleTracker } from "./idle.js";
import { AgentStateRecorder } from "./agent-state.js";
import { waitForFirstPort } from "../templates/ready.js";
import { hostDiskFull, isDiskFull } from "../disk-full.js";

/** In-memory view of a sandbox (the row is the durable copy). */
interface Live {
  status: SandboxStatus;
  endpoint?: SandboxEndpoint;
  sleepAfterMs: number;
  keepAlive: boolean;
}

export interface ManagerStats {
  wakes: number;
  lastWakeMs?: number;
  creates: number;
  lastCreateMs?: number;
  sleeps: number;
}

export interface ManagerEvents {
  /** The sandbox's processes are gone (slept or destroyed): drop connections to its endpoint. */
  stopped: [id: string];
  destroyed: [id: string];
}

export class SandboxManager extends EventEmitter<ManagerEvents> implements SandboxRuntime {
  private readonly lock = new KeyedLock();
  private readonly live = new Map<string, Live>();
  /** Snapshot names being written or read (fork seeding): count of users. */
  private readonly snapshotsBusy = new Map<string, number>();
  readonly idle: IdleTracker;
  readonly stats: ManagerStats = { wakes: 0, creates: 0, sleeps: 0 };
  /** Sessions and env set through the agent, kept across sleep (the forwarder feeds it). */
  readonly agentState: AgentStateRecorder;

  constructor(
    private readonly config: ServerConfig,
    private readonly stores: Stores,
    private readonly driver: Driver,
    private readonly templates: TemplateRegistry,
    private readonly log: Logger,
  ) {
    super();
    this.agentState = new AgentStateRecorder(stores, log);
    this.idle = new IdleTracker(config.idleCheckMs, (id, at) => this.stores.sandboxes.setLastActive(id, new Date(at).toISOString()), (id) => this.sleepIfIdle(id));
  }

  /** Adopts every known sandbox (driver.inspect) and starts the idle sweeper. */
  async init(): Promise<void> {
    // A few at a time: each inspect asks the runtime (a process spawn) and hosts have hundreds.
    const rows = this.stores.sandboxes.all();
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        try {
          await this.adopt(row);
        } catch (e) {
          this.log.error(`Cannot adopt sandbox ${row.id}: ${(e as Error).message}`);
          this.live.set(row.id, { status: "error", sleepAfterMs: row.sleepAfterMs, keepAlive: row.keepAlive });
          this.setStatus(row.id, "error");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, rows.length) }, worker));
    // Driver state without a row (e.g. made by another tool): reported, never touched.
    const orphans = (await this.driver.list().catch(() => [] as string[])).filter((id) => !id.startsWith("_") && !this.live.has(id) && !this.stores.sandboxes.get(id));
    if (orphans.length) this.log.warn(`driver has sandboxes the control plane does not know (left alone): ${orphans.slice(0, 20).join(", ")}`);
    this.idle.start();
  }

  private async adopt(row: SandboxRow): Promise<void> {
    if (row.status === "creating" || row.status === "destroying") {
      // Interrupted mid-create or mid-destroy: finish the job so nothing half-made remains.
      await this.driver.destroy(row.id);
      this.stores.sandboxes.delete(row.id);
      this.log.info(`removed half-${row.status === "creating" ? "created" : "destroyed"} sandbox ${row.id}`);
      return;
    }
    const ds = await this.driver.inspect(row.id);
    const status: SandboxStatus = ds.state === "running" && ds.endpoint ? "running" : ds.state === "paused" ? "paused" : "sleeping";
    this.live.set(row.id, { status, endpoint: status === "running" ? ds.endpoint : undefined, sleepAfterMs: row.sleepAfterMs, keepAlive: row.keepAlive });
    if (status !== row.status) this.bestEffort(() => this.stores.sandboxes.setStatus(row.id, status));
    if (status === "running") this.idle.track(row.id, row.sleepAfterMs, row.keepAlive);
    this.log.info(`adopted sandbox ${row.id}: ${status}`);
  }

  // ---- SandboxRuntime --------------------------------------------------------------------

  exists(id: string): boolean {
    return this.live.has(id);
  }

  endpoint(id: string): Promise<SandboxEndpoint> {
    const l = this.live.get(id);
    if (l && l.status === "running" && l.endpoint && !this.lock.busy(id)) {
      this.idle.touch(id);
      return Promise.resolve(l.endpoint);
    }
    return this.lock.run(id, () => this.ensureRunning(id));
  }

  touch(id: string): void {
    this.idle.touch(id);
  }

  hold(id: string): () => void {
    return this.idle.hold(id);
  }

  // ---- REST operations -------------------------------------------------------------------

  list(): SandboxInfo[] {
    return this.stores.sandboxes.all().map((r) => this.toInfo(r));
  }

  get(id: string): SandboxInfo {
    assertSandboxId(id);
    return this.toInfo(this.row(id));
  }

  /** Get-or-create: validates, then under the id's lock creates (or wakes) the sandbox. */
  async getOrCreate(id: string, req: CreateSandboxRequest): Promise<SandboxInfo> {
    assertSandboxId(id);
    const env = validateEnv(req.envVars);
    const sleepAfterMs = validateSleepAfter(req.sleepAfter);
    const keepAlive = validateKeepAlive(req.keepAlive);
    const limits = resolveLimits(req.limits, this.config.defaultLimits, this.config.maxLimits);
    const template = validateOptionalString(req.template, "template") ?? BASE_TEMPLATE;
    const fromSnapshot = validateOptionalString(req.fromSnapshot, "fromSnapshot");
    return this.lock.run(id, async () => {
      const existing = this.stores.sandboxes.get(id);
      if (existing) {
        if (sleepAfterMs !== undefined || keepAlive !== undefined) this.applyOptions(existing, sleepAfterMs, keepAlive);
        if (Object.keys(env).length) {
          const merged = { ...existing.env, ...env };
          assertEnvKeptBounds(envBytes(merged), "envVars");
          this.stores.sandboxes.setEnv(id, merged);
        }
        if (existing.status !== "paused") await this.ensureRunning(id);
        return { ...this.toInfo(this.row(id)), created: false };
      }
      // Throws TEMPLATE_NOT_FOUND before anything is made.
      this.templates.resolve(template);
      let snapshotDir: string | undefined;
      if (fromSnapshot !== undefined) {
        if (!this.stores.snapshots.get(fromSnapshot)) throw new AtollError(ErrorCode.SNAPSHOT_NOT_FOUND, `Cannot create sandbox ${id}: snapshot ${JSON.stringify(fromSnapshot)} does not exist`, { snapshot: fromSnapshot });
        snapshotDir = this.snapshotDir(fromSnapshot);
      }
      const now = new Date().toISOString();
      const row: SandboxRow = {
        id,
        status: "creating",
        driver: this.driver.name,
        template,
        limits,
        env,
        sleepAfterMs: sleepAfterMs ?? this.config.defaultSleepAfterMs,
        keepAlive: keepAlive ?? false,
        fromSnapshot: fromSnapshot ?? null,
        createdAt: now,
        lastActiveAt: now,
      };
      this.stores.sandboxes.insert(row);
      this.live.set(id, { status: "creating", sleepAfterMs: row.sleepAfterMs, keepAlive: row.keepAlive });
      const t0 = performance.now();
      if (fromSnapshot) this.snapshotsBusy.set(fromSnapshot, (this.snapshotsBusy.get(fromSnapshot) ?? 0) + 1);
      try {
        const ds = await this.driver.start(buildSpec(row, this.templates, snapshotDir));
        if (!ds.endpoint) throw new Error("driver returned no endpoint");
        this.markRunning(row, ds.endpoint);
        // templates: if the template declares ports, wait (bounded, never fails) for the first to listen
        if (template !== BASE_TEMPLATE) await this.waitTemplatePort(id, template, ds.endpoint);
      } catch (e) {
        this.live.delete(id);
        await this.driver.destroy(id).catch((de) => this.log.error(`Cannot clean up sandbox ${id} after a failed start: ${(de as Error).message}`));
        this.stores.sandboxes.delete(id);
        throw startError(id, e);
      } finally {
        if (fromSnapshot) {
          const n = (this.snapshotsBusy.get(fromSnapshot) ?? 1) - 1;
          if (n > 0) this.snapshotsBusy.set(fromSnapshot, n);
          else this.snapshotsBusy.delete(fromSnapshot);
        }
      }
      this.stats.creates++;
      this.stats.lastCreateMs = performance.now() - t0;
      this.log.info(`created sandbox ${id} in ${this.stats.lastCreateMs.toFixed(1)} ms`);
      return { ...this.toInfo(this.row(id)), created: true };
    });
  }

  async update(id: string, req: UpdateSandboxRequest): Promise<SandboxInfo> {
    assertSandboxId(id);
    const sleepAfterMs = validateSleepAfter(req.sleepAfter);
    const keepAlive = validateKeepAlive(req.keepAlive);
    return this.lock.run(id, async () => {
      this.applyOptions(this.row(id), sleepAfterMs, keepAlive);
      this.idle.touch(id);
      return this.toInfo(this.row(id));
    });
  }

  async destroy(id: string): Promise<void> {
    assertSandboxId(id);
    await this.lock.run(id, async () => {
      this.row(id);
      // On a full data dir this status write may be lost (setStatus is best-effort): destroying frees
      // the space, so go on; a crash before the row is deleted leaves a row adopt() finds missing.
      this.setStatus(id, "destroying");
      this.idle.untrack(id);
      this.emit("stopped", id);
      await this.driver.destroy(id);
      this.stores.sandboxes.delete(id);
      this.live.delete(id);
      this.emit("destroyed", id);
      this.log.info(`destroyed sandbox ${id}`);
    });
  }

  async pause(id: string): Promise<SandboxInfo> {
    assertSandboxId(id);
    return this.lock.run(id, async () => {
      if (this.row(id).status !== "paused") {
        await this.ensureRunning(id);
        await this.driver.pause(id);
        this.setStatus(id, "paused");
        this.idle.untrack(id);
      }
      return this.toInfo(this.row(id));
    });
  }

  async resume(id: string): Promise<SandboxInfo> {
    assertSandboxId(id);
    return this.lock.run(id, async () => {
      const row = this.row(id);
      if (row.status === "paused") {
        await this.driver.resume(id);
        this.setStatus(id, "running");
        this.idle.track(id, row.sleepAfterMs, row.keepAlive);
      } else {
        await this.ensureRunning(id);
      }
      return this.toInfo(this.row(id));
    });
  }

  /** Puts a sandbox to sleep now (driver.stop: processes and memory gone, files kept). */
  async sleep(id: string): Promise<SandboxInfo> {
    assertSandboxId(id);
    return this.lock.run(id, async () => {
      const row = this.row(id);
      if (row.status === "running" || row.status === "paused") await this.stopLocked(id, "requested");
      return this.toInfo(this.row(id));
    });
  }

  /**
   * Copies the sandbox's files into a named snapshot. Runs outside the id's lock so API calls and
   * previews keep flowing during a long copy; the driver serialises it against stop/destroy.
   */
  async snapshot(id: string, name?: unknown): Promise<SnapshotInfo> {
    assertSandboxId(id);
    const snapName = name === undefined || name === null ? `${id}-${Date.now().toString(36)}` : validateName(name, "snapshot");
    this.row(id);
    const dir = this.snapshotDir(snapName);
    if (this.snapshotsBusy.has(snapName) || this.stores.snapshots.get(snapName) || existsSync(dir)) {
      throw new AtollError(ErrorCode.SNAPSHOT_EXISTS, `Cannot create snapshot ${snapName}: it already exists`, { name: snapName });
    }
    this.snapshotsBusy.set(snapName, 1);
    privateDir(path.dirname(dir)); // snapshots/: 0700 (copies of sandbox files)
    try {
      const { sizeBytes } = await this.driver.snapshot(id, dir);
      const info: SnapshotInfo = { name: snapName, sandboxId: id, createdAt: new Date().toISOString(), sizeBytes };
      this.stores.snapshots.insert(info);
      return info;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    } finally {
      this.snapshotsBusy.delete(snapName);
    }
  }

  deleteSnapshot(name: string): void {
    validateName(name, "snapshot");
    if (!this.stores.snapshots.get(name)) throw new AtollError(ErrorCode.SNAPSHOT_NOT_FOUND, `Cannot delete snapshot ${name}: it does not exist`, { name });
    if (this.snapshotsBusy.has(name)) throw new AtollError(ErrorCode.RESOURCE_BUSY, `Cannot delete snapshot ${name}: a sandbox is being created from it`, { name });
    rmSync(this.snapshotDir(name), { recursive: true, force: true });
    this.stores.snapshots.delete(name);
  }

  snapshotDir(name: string): string {
    return path.join(this.config.dataDir, "snapshots", name);
  }

  /** Stops the sweeper, persists activity and lets running operations finish; sandboxes keep running. */
  async close(): Promise<void> {
    this.idle.stop();
    await this.lock.drain();
  }

  // ---- internals (callers hold the id's lock) ------------------------------------------------

  private async ensureRunning(id: string): Promise<SandboxEndpoint> {
    const row = this.row(id);
    const l = this.live.get(id);
    if (row.status === "paused") throw new AtollError(ErrorCode.SANDBOX_PAUSED, `Cannot reach sandbox ${id}: it is paused; POST /v1/sandboxes/${id}/resume first`, { id });
    if (row.status === "running" && l?.endpoint) {
      this.idle.touch(id);
      return l.endpoint;
    }
    const t0 = performance.now();
    try {
      const ds = await this.driver.start(buildSpec(this.withBoundedEnv(row), this.templates));
      if (!ds.endpoint) throw new Error("driver returned no endpoint");
      await this.agentState.replay(id, ds.endpoint);
      this.markRunning(row, ds.endpoint);
      // templates: the startup command ran again on wake; wait (bounded) for its first port
      if (row.template !== BASE_TEMPLATE) await this.waitTemplatePort(id, row.template, ds.endpoint);
      this.stats.wakes++;
      this.stats.lastWakeMs = performance.now() - t0;
      this.log.info(`woke sandbox ${id} in ${this.stats.lastWakeMs.toFixed(1)} ms`);
      return ds.endpoint;
    } catch (e) {
      this.setStatus(id, "error");
      throw startError(id, e);
    }
  }

  /**
   * The row with its env within ENV_BOUNDS. An env stored before the bounds existed (or written by
   * an older version) could be too big to exec the agent with (E2BIG): the sandbox would fail to
   * start on every wake. Instead the oversized variables are dropped — from the stored row too, so
   * this happens once — and named in a warning; the sandbox starts without them.
   */
  private withBoundedEnv(row: SandboxRow): SandboxRow {
    const { env, dropped } = trimEnvToBounds(row.env);
    if (dropped.length === 0) return row;
    this.stores.sandboxes.setEnv(row.id, env);
    this.log.warn(`sandbox ${row.id}: stored env was over the bounds (${envBytes(row.env)} bytes); started without ${dropped.length} variable(s): ${dropped.slice(0, 20).join(", ")}${dropped.length > 20 ? ", …" : ""}`);
    return { ...row, env };
  }

  /** templates/ready.ts: the template's startup server answers when create returns (see docs/templates.md). */
  private async waitTemplatePort(id: string, template: string, endpoint: SandboxEndpoint): Promise<void> {
    let ports: number[];
    try {
      ports = this.templates.resolve(template).ports;
    } catch {
      return; // template row gone: nothing to wait for
    }
    if (!ports.length) return;
    const waited = await waitForFirstPort(endpoint.host, ports, this.config.templatePortWaitMs);
    if (waited === null) this.log.warn(`sandbox ${id}: template ${template}'s port ${ports[0]} is not listening yet; returning anyway`);
  }

  private markRunning(row: SandboxRow, endpoint: SandboxEndpoint): void {
    this.live.set(row.id, { status: "running", endpoint, sleepAfterMs: row.sleepAfterMs, keepAlive: row.keepAlive });
    this.idle.track(row.id, row.sleepAfterMs, row.keepAlive);
    this.bestEffort(() => this.stores.sandboxes.setStatus(row.id, "running"));
  }

  private async sleepIfIdle(id: string): Promise<void> {
    await this.lock
      .run(id, async () => {
        const row = this.stores.sandboxes.get(id);
        if (!row || row.status !== "running" || !this.idle.isIdle(id)) return;
        await this.stopLocked(id, "idle");
      })
      .catch((e) => this.log.error(`Cannot put sandbox ${id} to sleep: ${(e as Error).message}`));
  }

  private async stopLocked(id: string, why: string): Promise<void> {
    const row = this.row(id);
    this.idle.untrack(id);
    this.emit("stopped", id);
    try {
      await this.driver.stop(id);
    } catch (e) {
      // Still running as far as we know: keep tracking so a later sweep retries.
      this.idle.track(id, row.sleepAfterMs, row.keepAlive);
      throw e;
    }
    this.setStatus(id, "sleeping");
    this.stats.sleeps++;
    this.log.info(`sandbox ${id} sleeping (${why})`);
  }

  private applyOptions(row: SandboxRow, sleepAfterMs: number | undefined, keepAlive: boolean | undefined): void {
    const s = sleepAfterMs ?? row.sleepAfterMs;
    const k = keepAlive ?? row.keepAlive;
    this.stores.sandboxes.setOptions(row.id, s, k);
    const l = this.live.get(row.id);
    if (l) {
      l.sleepAfterMs = s;
      l.keepAlive = k;
    }
    this.idle.configure(row.id, s, k);
  }

  /** Runs a state write that may fail on a full disk without stopping the operation around it. */
  private bestEffort(write: () => void): void {
    try {
      write();
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      this.log.warn(`state write skipped, the data dir is full: ${(e as Error).message}`);
    }
  }

  /**
   * The in-memory view changes first, the row follows best-effort: a status write lost to a full
   * data dir must not leave a slept, paused or destroyed sandbox looking otherwise in memory, and
   * adopt() re-derives every status from the driver after a restart.
   */
  private setStatus(id: string, status: SandboxStatus): void {
    const l = this.live.get(id);
    if (l) {
      l.status = status;
      if (status !== "running") l.endpoint = undefined;
    }
    this.bestEffort(() => this.stores.sandboxes.setStatus(id, status));
  }

  private row(id: string): SandboxRow {
    const r = this.stores.sandboxes.get(id);
    if (!r || r.status === "destroying") throw new AtollError(ErrorCode.SANDBOX_NOT_FOUND, `Cannot find sandbox ${id}: it does not exist (PUT /v1/sandboxes/${id} creates it)`, { id });
    return r;
  }

  private toInfo(r: SandboxRow): SandboxInfo {
    const last = this.idle.lastActive(r.id);
    return {
      id: r.id,
      // memory leads the row (setStatus): the row may lag after a write lost to a full disk
      status: this.live.get(r.id)?.status ?? r.status,
      driver: r.driver,
      template: r.template,
      createdAt: r.createdAt,
      lastActiveAt: last ? new Date(last).toISOString() : r.lastActiveAt,
      sleepAfterMs: r.sleepAfterMs,
      keepAlive: r.keepAlive,
      limits: r.limits,
    };
  }
}

function startError(id: string, e: unknown): AtollError {
  if (e instanceof AtollError) return e;
  if (isDiskFull(e)) return hostDiskFull(`start sandbox ${id}`, e, { id });
  return new AtollError(ErrorCode.SANDBOX_START_FAILED, `Cannot start sandbox ${id}: ${(e as Error)?.message ?? String(e)}`, { id });
}
