// Host-global allocator of per-sandbox user-namespace ranges. Each sandbox's root maps to its own
// host uid/gid range (base .. base+count-1), so one sandbox's processes own nothing of another's
// and nothing of the shared storage range (see idmap.ts). A range is a lock file created with
// O_EXCL under <runDir>/uids/, holding "<data-dir tag>/<name>" and, on a second line, the sandbox's
// dir, so several control planes never hand out the same range and any of them can reclaim ranges
// whose sandbox dir is gone (a data dir deleted without destroying its sandboxes). The lease lives from a sandbox's first start until destroy; after a
// reboot (/run wiped) the recorded range is re-taken if still free, else a new one is assigned —
// harmless, because files on disk stay in the storage range and never belong to a sandbox range.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

/** Real uids of every process on the host. */
function hostUids(): Set<number> {
  const out = new Set<number>();
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) out.add(Number(m[1]));
    } catch { /* exited */ }
  }
  return out;
}

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

  /** Reserves a free range for owner (its sandbox dir in `dir`); returns its first host id (root inside). */
  allocate(owner: string, dir: string): number {
    const used = new Set(readdirSync(this.dir));
    for (let i = 0; i < this.slots; i++) {
      const slot = (this.next + i) % this.slots;
      const base = this.start + slot * this.count;
      if (used.has(String(base))) continue;
      if (this.take(base, owner, dir)) {
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
  keep(base: number, owner: string, dir: string): boolean {
    const off = base - this.start;
    if (!Number.isInteger(off) || off < 0 || off % this.count !== 0 || off / this.count >= this.slots) return false;
    return this.owner(base) === owner || this.take(base, owner, dir);
  }

  /** Frees a range; only if owner still holds it (idempotent). */
  release(base: number, owner: string): void {
    if (this.owner(base) === owner) {
      try { unlinkSync(path.join(this.dir, String(base))); } catch { /* already free */ }
    }
  }

  owner(base: number): string | undefined {
    return this.lease(base)?.[0];
  }

  private lease(base: number): [owner: string, dir: string | undefined] | undefined {
    try {
      const [owner, dir] = readFileSync(path.join(this.dir, String(base)), "utf8").split("\n");
      return [owner!, dir || undefined];
    } catch {
      return undefined;
    }
  }

  /**
   * Frees ranges whose sandbox dir no longer exists and in which no process runs (one /proc scan):
   * a range is never handed out again while anything of its sandbox may still use it.
   */
  reapOrphans(): number {
    const orphans = readdirSync(this.dir).map(Number).filter((b) => {
      const dir = this.lease(b)?.[1];
      return dir !== undefined && !existsSync(dir);
    });
    if (!orphans.length) return 0;
    const busy = hostUids();
    let n = 0;
    for (const b of orphans) {
      if ([...busy].some((u) => u >= b && u < b + this.count)) continue;
      try { unlinkSync(path.join(this.dir, String(b))); n++; } catch { /* raced */ }
    }
    return n;
  }

  private take(base: number, owner: string, dir: string): boolean {
    try {
      const fd = openSync(path.join(this.dir, String(base)), "wx", 0o600);
      try { writeSync(fd, `${owner}\n${dir}`); } finally { closeSync(fd); }
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      return false;
    }
  }
}
