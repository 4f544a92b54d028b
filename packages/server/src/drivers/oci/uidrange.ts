// Host-global allocator of per-sandbox user-namespace ranges. Each sandbox's root maps to its own
// host uid/gid range (base .. base+count-1), so one sandbox's processes own nothing of another's
// and nothing of the shared storage range (see idmap.ts). A range is a lock file created with
// O_EXCL under <runDir>/uids/, holding "<data-dir tag>/<name>", so several control planes never
// hand out the same range. The lease lives from a sandbox's first start until destroy; after a
// reboot (/run wiped) the recorded range is re-taken if still free, else a new one is assigned —
// harmless, because files on disk stay in the storage range and never belong to a sandbox range.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

export class UidRanges {
  private readonly dir: string;
  private next = 0;
  /**
   * Ranges start at `start` and are `count` ids wide; `slots` of them. The default start (2^30) sits
   * above Debian's subordinate-id pool (/etc/subuid, SUB_UID_MAX 600100000), so no host user can map
   * a user namespace of their own onto a sandbox's ids.
   */
  constructor(runDir: string, private readonly start: number, private readonly count: number, private readonly slots: number) {
    this.dir = path.join(runDir, "uids");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Reserves a free range for owner; returns its first host id (root inside the sandbox). */
  allocate(owner: string): number {
    const used = new Set(readdirSync(this.dir));
    for (let i = 0; i < this.slots; i++) {
      const slot = (this.next + i) % this.slots;
      const base = this.start + slot * this.count;
      if (used.has(String(base))) continue;
      if (this.take(base, owner)) {
        this.next = slot + 1; // round robin: a freed range is reused as late as possible
        return base;
      }
    }
    throw new Error(`Cannot allocate a user-namespace range: all ${this.slots} ranges are in use`);
  }

  /**
   * Keeps `base` for owner: true when owner holds it already or it was free and is now taken.
   * False when base is not one of this allocator's ranges or someone else holds it.
   */
  keep(base: number, owner: string): boolean {
    const off = base - this.start;
    if (!Number.isInteger(off) || off < 0 || off % this.count !== 0 || off / this.count >= this.slots) return false;
    return this.owner(base) === owner || this.take(base, owner);
  }

  /** Frees a range; only if owner still holds it (idempotent). */
  release(base: number, owner: string): void {
    if (this.owner(base) === owner) {
      try { unlinkSync(path.join(this.dir, String(base))); } catch { /* already free */ }
    }
  }

  owner(base: number): string | undefined {
    try { return readFileSync(path.join(this.dir, String(base)), "utf8"); } catch { return undefined; }
  }

  /** Ranges held by owners whose label starts with prefix (for cleaning up after a crash). */
  heldBy(prefix: string): { base: number; owner: string }[] {
    const out: { base: number; owner: string }[] = [];
    for (const f of readdirSync(this.dir)) {
      const owner = this.owner(Number(f));
      if (owner?.startsWith(prefix)) out.push({ base: Number(f), owner });
    }
    return out;
  }

  private take(base: number, owner: string): boolean {
    try {
      const fd = openSync(path.join(this.dir, String(base)), "wx", 0o600);
      try { writeSync(fd, owner); } finally { closeSync(fd); }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      return false;
    }
  }
}
