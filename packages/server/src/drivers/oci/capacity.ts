// Disk admission for sparse sandbox disks. A disk image costs the host only what was written into
// it, so without a check the sum of every sandbox's diskMiB can exceed the data dir's free space;
// once the host fills, a sandbox's ext4 gets I/O errors at writeback and goes read-only with data
// lost, although each writer was within its own quota. So a disk is only created (or grown) while
//   promised + wanted ≤ overcommit × (free − reserve)
// where promised = Σ over this data dir's other disks of (size − allocated): what they may still
// claim. Writes inside a sandbox move bytes from "free" to "allocated" and discards move them back,
// so once admitted, sandboxes alone can never fill the host (overcommit = 1, the default).
import { lstatSync, readdirSync, statSync } from "node:fs";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { freeBytes } from "../../disk-full.js";
import type { ResolvedConfig } from "./config.js";
import type { Layout } from "./records.js";

const MiB = 1024 * 1024;

export interface DiskUse {
  /** Bytes the disk may still take from the host: apparent size minus allocated blocks. */
  promised: number;
  allocated: number;
  size: number;
}

/** Apparent size and allocated bytes of one disk image; zeros when it does not exist. */
export function diskUse(img: string): DiskUse {
  try {
    const st = statSync(img);
    const allocated = st.blocks * 512;
    return { size: st.size, allocated, promised: Math.max(0, st.size - allocated) };
  } catch {
    return { size: 0, allocated: 0, promised: 0 };
  }
}

export class DiskBudget {
  /** Disks being created or grown (by internal name) and snapshots being copied: bytes they add. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly layout: Layout,
  ) {}

  /** Σ promised of every disk in this data dir except `skip` (claimed-id symlinks are aliases). */
  promised(skip?: string): number {
    let sum = 0;
    let names: string[];
    try { names = readdirSync(this.cfg.sandboxesDir); } catch { return 0; }
    for (const n of names) {
      if (n === skip || this.pending.has(n)) continue;
      try { if (lstatSync(this.layout.dir(n)).isSymbolicLink()) continue; } catch { continue; }
      sum += diskUse(this.layout.disk(n)).promised;
    }
    for (const b of this.pending.values()) sum += b;
    return sum;
  }

  /**
   * Admits making `name`'s disk sizeMiB big (new, or grown from what it is). Synchronous check and
   * reservation, so concurrent creates cannot both take the last space; call the returned release
   * once the image exists at its new size (it is then counted from the file itself).
   * Throws INSUFFICIENT_STORAGE when it does not fit.
   */
  admit(id: string, name: string, sizeMiB: number): () => void {
    const want = sizeMiB * MiB;
    const cur = diskUse(this.layout.disk(name));
    if (cur.size >= want) return () => {}; // exists and big enough: already counted
    return this.reserve(name, want - cur.allocated, name, (why) =>
      `Cannot ${cur.size ? "grow" : "create"} the ${sizeMiB} MiB disk of sandbox ${id}: ${why} (ask for a smaller limits.diskMiB or destroy sandboxes)`, { id, diskMiB: sizeMiB });
  }

  /**
   * Admits copying `name`'s writable layer into the data dir (a snapshot): real bytes, at most what
   * its image has allocated, which must not eat the space promised to the disks.
   */
  admitSnapshot(id: string, name: string): () => void {
    const need = diskUse(this.layout.disk(name)).allocated;
    return this.reserve(`snapshot:${name}`, need, undefined, (why) =>
      `Cannot snapshot sandbox ${id}: up to ${Math.ceil(need / MiB)} MiB to copy, but ${why} (delete snapshots or sandboxes)`, { id, snapshotMiB: Math.ceil(need / MiB) });
  }

  /** Checks `promised + adds ≤ overcommit × (free − reserve)` and holds `adds` under `key` until released. */
  private reserve(key: string, adds: number, skip: string | undefined, message: (why: string) => string, context: Record<string, unknown>): () => void {
    const free = freeBytes(this.cfg.sandboxesDir);
    const promised = this.promised(skip);
    const room = this.cfg.diskOvercommit * (free - this.cfg.diskReserveMiB * MiB);
    if (promised + adds > room) {
      const mib = (b: number) => Math.floor(b / MiB);
      const why = `the data dir's filesystem has ${mib(free)} MiB free, ${mib(promised)} MiB of it promised to sandbox disks and ${this.cfg.diskReserveMiB} MiB kept in reserve`;
      throw new AtollError(ErrorCode.INSUFFICIENT_STORAGE, message(why), {
        ...context, freeMiB: mib(free), promisedMiB: mib(promised), reserveMiB: this.cfg.diskReserveMiB, overcommit: this.cfg.diskOvercommit,
      });
    }
    this.pending.set(key, adds);
    return () => { this.pending.delete(key); };
  }
}
