// Warm pool for time-to-interactive: N running sandboxes of the base template with default limits,
// under internal names "_pool-xxxx". A start() of a new id whose spec matches claims one (a symlink
// sandboxes/<id> -> _pool-xxxx plus the id in its state file) and the pool refills in the background.
import { randomBytes } from "node:crypto";
import { AGENT_KEY_HEADER } from "@atoll/protocol";
import { EventEmitter } from "node:events";
import { existsSync, readdirSync, realpathSync, symlinkSync } from "node:fs";
import { privateDir } from "../../private-files.js";
import { alive } from "./exec.js";
export { alive } from "./exec.js";
import type { SandboxSpec } from "../types.js";
import type { KeyedLock } from "../../lib/keyed-lock.js";
import type { SandboxRecord } from "./records.js";
import { AGENT_PORT, bringUp, wipe, type Ctx } from "./sandbox.js";

const REFILL_DELAY_MS = 200;

export class WarmPool extends EventEmitter {
  private ready: string[] = [];
  private filling = 0;
  private closed = false;
  private failures = 0;
  private inflight = new Set<Promise<void>>();

  constructor(
    private readonly ctx: Ctx,
    private readonly lock: KeyedLock,
    private readonly size: number,
  ) {
    super();
  }

  /** Resolves once n entries (default: the pool size) are ready; rejects after timeoutMs. */
  waitReady(n = this.size, timeoutMs = 60_000): Promise<void> {
    if (this.ready.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onReady = () => {
        if (this.ready.length < n) return;
        clearTimeout(timer);
        this.off("ready", onReady);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off("ready", onReady);
        reject(new Error(`Cannot fill the pool: ${this.ready.length}/${n} ready after ${timeoutMs} ms`));
      }, timeoutMs);
      this.on("ready", onReady);
    });
  }

  get readyCount() { return this.ready.length; }

  /** True when a sandbox started with this spec would be identical to a pool entry. */
  matches(spec: SandboxSpec): boolean {
    const { cfg } = this.ctx;
    const d = cfg.defaults;
    const l = spec.limits;
    if (spec.template !== "base" || spec.startup || spec.fromSnapshotDir || spec.egress === false) return false;
    if (spec.workdir && spec.workdir !== "/workspace") return false;
    if (Object.keys(spec.env ?? {}).length) return false;
    if (l && (l.cpu !== d.cpu || l.memoryMiB !== d.memoryMiB || l.pids !== d.pids || l.diskMiB !== d.diskMiB)) return false;
    if (spec.rootfs) {
      try { if (realpathSync(spec.rootfs) !== realpathSync(cfg.baseImage)) return false; } catch { return false; }
    }
    return true;
  }

  /** Hands a ready entry to `id`; undefined when none is ready. */
  claim(id: string): SandboxRecord | undefined {
    const { layout } = this.ctx;
    while (this.ready.length) {
      const name = this.ready.shift()!;
      const rec = layout.read(name);
      if (!rec?.ip || !alive(rec.pid)) {
        // died while waiting (killed from outside): remove it in the background
        if (rec) void this.lock.run(name, () => wipe(this.ctx, rec)).catch(() => {});
        continue;
      }
      symlinkSync(name, layout.dir(id)); // throws EEXIST if id appeared meanwhile: caller falls back
      rec.id = id;
      delete rec.poolOwnerPid;
      layout.write(rec);
      // Refill a moment later: the claimer's first requests should not compete with a cold start.
      setTimeout(() => this.refill(), REFILL_DELAY_MS).unref();
      return rec;
    }
    this.refill();
    return undefined;
  }

  /** Starts entries until `size` are ready or filling. Background; errors back off. */
  refill(): void {
    if (this.closed) return;
    while (this.ready.length + this.filling < this.size && this.failures < 3) {
      this.filling++;
      const p = this.addOne()
        .then(() => { this.failures = 0; })
        .catch((e) => {
          this.failures++;
          console.error(`[oci pool] ${(e as Error).message}`);
          if (this.failures >= 3) setTimeout(() => { this.failures = 0; this.refill(); }, 30_000).unref();
        })
        .finally(() => { this.filling--; this.inflight.delete(p); });
      this.inflight.add(p);
    }
  }

  private async addOne(): Promise<void> {
    const { cfg, layout } = this.ctx;
    const name = `_pool-${randomBytes(4).toString("hex")}`;
    const rec: SandboxRecord = {
      name,
      id: null,
      template: "base",
      rootfs: realpathSync(cfg.baseImage),
      limits: { ...cfg.defaults },
      env: {},
      egress: true,
      createdAt: new Date().toISOString(),
      poolOwnerPid: process.pid,
    };
    await this.lock.run(name, async () => {
      privateDir(layout.dir(name));
      layout.write(rec);
      await bringUp(this.ctx, rec);
      layout.write(rec);
    });
    await warmUp(rec.ip!, rec.agentKey!);
    if (this.closed) {
      await this.lock.run(name, () => wipe(this.ctx, rec));
      return;
    }
    this.ready.push(name);
    this.emit("ready", name);
  }

  /**
   * Removes one unclaimed entry so its disk's space can go to a caller's sandbox; false if none.
   * An entry still starting holds its promise too: with none ready, the first start to end is waited for.
   */
  async evictOne(): Promise<boolean> {
    if (!this.ready.length && this.inflight.size) await Promise.race(this.inflight);
    const name = this.ready.shift();
    if (!name) return false;
    await this.lock.run(name, async () => {
      const rec = this.ctx.layout.read(name);
      if (rec && !rec.id) await wipe(this.ctx, rec);
    });
    return true;
  }

  /** Removes pool entries left by control planes that are gone (dead owner pid, never claimed). */
  async reapStale(): Promise<void> {
    const { layout, cfg } = this.ctx;
    if (!existsSync(cfg.sandboxesDir)) return;
    for (const name of readdirSync(cfg.sandboxesDir)) {
      if (!name.startsWith("_pool-")) continue;
      const rec = layout.read(name);
      if (rec?.id) continue; // claimed
      const pid = rec?.poolOwnerPid ?? 0;
      // owner still running (this process included: another driver instance may own it)
      if (pid > 0 && (pid === process.pid || alive(pid))) continue;
      await this.lock.run(name, () => wipe(this.ctx, rec ?? ({ name, id: null } as SandboxRecord))).catch((e) =>
        console.error(`[oci pool] Cannot remove stale ${name}: ${(e as Error).message}`),
      );
    }
  }

  /** Stops refilling and destroys every unclaimed entry. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    const names = this.ready.splice(0);
    await Promise.allSettled(
      names.map((name) => this.lock.run(name, async () => {
        const rec = this.ctx.layout.read(name);
        if (rec && !rec.id) await wipe(this.ctx, rec);
      })),
    );
  }
}

/**
 * One throwaway command through the agent: creates its default shell session and warms the exec
 * path, so the claimer's first exec costs what a warm one does (≈ 40-100 ms less). Best effort.
 */
async function warmUp(ip: string, key: string): Promise<void> {
  try {
    const r = await fetch(`http://${ip}:${AGENT_PORT}/api/execute`, {
      method: "POST",
      headers: { "content-type": "application/json", [AGENT_KEY_HEADER]: key },
      body: JSON.stringify({ command: "true" }),
      signal: AbortSignal.timeout(5000),
    });
    await r.arrayBuffer();
  } catch {
    /* an older agent or a slow host: the pool entry is still usable */
  }
}
