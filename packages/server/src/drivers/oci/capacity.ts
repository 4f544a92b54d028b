// Disk admission for sparse sandbox disks. A disk image costs the host only what was written into
// it, so without a check the sum of every sandbox's diskMiB can exceed the data dir's free space;
// once the host fills, a sandbox's ext4 gets I/O errors at writeback and goes read-only with data
// lost, although each writer was within its own quota. So a disk is only created (or grown) while
//   promised + wanted ≤ overcommit × (free − reserve)
// where promised = Σ over this data dir's other disks of (size − allocated): what they may still
// claim. Writes inside a sandbox move bytes from "free" to "allocated" and discards move them back,
// so once admitted, sandboxes alone can never fill the host (overcommit = 1, the default).
import { statSync, type Dirent } from "node:fs";
import fs from "node:fs/promises";
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
  const st = statSync(img, { throwIfNoEntry: false });
  if (!st) return { size: 0, allocated: 0, promised: 0 };
  const allocated = st.blocks * 512;
  return { size: st.size, allocated, promised: Math.max(0, st.size - allocated) };
}

export class DiskBudget {
  /** Disks being created or grown (by internal name) and snapshots being copied: bytes they add. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly layout: Layout,
  ) {}

  /**
   * Σ promised of every disk in this data dir except `skip` (claimed-id symlinks are aliases) and
   * of every pending reservation except `own`. One readdir plus one stat per sandbox, on the
   * thread pool: 500 sandboxes cost 14-60 ms of stat calls on this loaded VM, which must not block
   * the event loop that proxies every other sandbox's traffic.
   */
  async promised(skip?: string, own?: string): Promise<number> {
    // the pending set is read once, with the directory: a disk whose reservation ends while its
    // file is being looked at is counted from the reservation (conservative), never from neither
    const pending = new Map(this.pending);
    let entries: Dirent[];
    try { entries = await fs.readdir(this.cfg.sandboxesDir, { withFileTypes: true }); } catch { entries = []; }
    const names = entries.filter((e) => e.isDirectory() && e.name !== skip && !pending.has(e.name)).map((e) => e.name);
    const uses = await Promise.all(names.map((n) => fs.stat(this.layout.disk(n)).then((st) => Math.max(0, st.size - st.blocks * 512), () => 0)));
    let sum = uses.reduce((a, b) => a + b, 0);
    for (const [k, b] of pending) if (k !== own) sum += b;
    return sum;
  }

  /**
   * Below the reserve the host is full for practical purposes: a sandbox started now (created or
   * woken) would lose what it writes once its sparse disk needs a block the host does not have
   * (docs/oci-driver.md, "Host disk space"), so starts answer HOST_DISK_FULL instead.
   */
  assertHeadroom(id: string): void {
    const free = freeBytes(this.cfg.sandboxesDir);
    if (free >= this.cfg.diskReserveMiB * MiB) return;
    const freeMiB = Math.floor(free / MiB);
    throw new AtollError(
      ErrorCode.HOST_DISK_FULL,
      `Cannot start sandbox ${id}: the data dir's filesystem has ${freeMiB} MiB free, less than its ${this.cfg.diskReserveMiB} MiB reserve, so the sandbox could lose what it writes (free space on the host or destroy sandboxes)`,
      { id, freeMiB, reserveMiB: this.cfg.diskReserveMiB },
    );
  }

  /**
   * Admits making `name`'s disk sizeMiB big (new, or grown from what it is); call the returned
   * release once the image exists at its new size (it is then counted from the file itself).
   * Throws INSUFFICIENT_STORAGE when it does not fit.
   */
  async admit(id: string, name: string, sizeMiB: number): Promise<() => void> {
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
  async admitSnapshot(id: string, name: string): Promise<() => void> {
    const need = diskUse(this.layout.disk(name)).allocated;
    return this.reserve(`snapshot:${name}`, need, undefined, (why) =>
      `Cannot snapshot sandbox ${id}: up to ${Math.ceil(need / MiB)} MiB to copy, but ${why} (delete snapshots or sandboxes)`, { id, snapshotMiB: Math.ceil(need / MiB) });
  }

  /**
   * Holds `adds` under `key`, then checks `promised + adds ≤ overcommit × (free − reserve)`; the
   * hold comes first, so two admissions in flight each count the other (both conservative) and
   * cannot both take the last space. Callers hold the sandbox's lock, so a key is never doubled.
   */
  private async reserve(key: string, adds: number, skip: string | undefined, message: (why: string) => string, context: Record<string, unknown>): Promise<() => void> {
    this.pending.set(key, adds);
    const release = () => { this.pending.delete(key); };
    try {
      const promised = await this.promised(skip, key);
      const free = freeBytes(this.cfg.sandboxesDir);
      const room = this.cfg.diskOvercommit * (free - this.cfg.diskReserveMiB * MiB);
      if (promised + adds > room) {
        const mib = (b: number) => Math.floor(b / MiB);
        const why = `the data dir's filesystem has ${mib(free)} MiB free, ${mib(promised)} MiB of it promised to sandbox disks and ${this.cfg.diskReserveMiB} MiB kept in reserve`;
        throw new AtollError(ErrorCode.INSUFFICIENT_STORAGE, message(why), {
          ...context, freeMiB: mib(free), promisedMiB: mib(promised), reserveMiB: this.cfg.diskReserveMiB, overcommit: this.cfg.diskOvercommit,
        });
      }
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }
}
