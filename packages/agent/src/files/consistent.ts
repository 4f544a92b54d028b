// Reads that never return a torn file. Everything is read from one open file descriptor, and the
// file's identity and content stamps (fstat: inode, size, mtime in ns) are compared before and
// after (not ctime: unlinking the old inode when a writer renames a new file over it changes its
// ctime, though not one byte of what this fd reads): a file rewritten in place meanwhile (by a process that does not replace it atomically) is
// read again, and after a few tries the read fails with RESOURCE_BUSY instead of mixing versions.
// Writes through the agent replace files atomically (atomic.ts), so they never cause a retry.
//
// File timestamps come from a coarse clock (one kernel tick, 4-10 ms, on these hosts): a second
// in-place rewrite within the tick of the last one leaves mtime unchanged. So a read only starts
// once the file's mtime is QUIET_MS in the past (settle()): any write after that moves mtime.
// A file written moments ago waits up to QUIET_MS — unless the agent itself just wrote that exact
// version (same inode, size, mtime) through atomic.ts, which is the common write-then-read case;
// a file rewritten in place non-stop ends in RESOURCE_BUSY.
import type { BigIntStats } from "node:fs";
import fsp, { type FileHandle } from "node:fs/promises";
import { AtollError, ErrorCode } from "@atoll/protocol";

const ATTEMPTS = 5;
/** How far in the past mtime must be before a stamp can be trusted (a few coarse-clock ticks). */
const QUIET_MS = 20;
/** How long settle() waits for a file to become quiet. */
const SETTLE_MAX_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Versions the agent finished writing recently: inode → "size:mtimeNs" (bounded, oldest dropped). */
const ownWrites = new Map<bigint, string>();
const OWN_WRITES_MAX = 4096;
const versionKey = (st: BigIntStats) => `${st.size}:${st.mtimeNs}`;

/** atomic.ts reports each completed replacement, so reading it back right away needs no wait. */
export function noteOwnWrite(st: BigIntStats): void {
  ownWrites.delete(st.ino);
  ownWrites.set(st.ino, versionKey(st));
  if (ownWrites.size > OWN_WRITES_MAX) ownWrites.delete(ownWrites.keys().next().value!);
}

export async function stamp(fh: FileHandle): Promise<BigIntStats> {
  return fh.stat({ bigint: true });
}

/** True when nothing about the file's content changed between the two stamps. */
export function unchanged(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;
}

/**
 * The stamp of fh once its mtime is QUIET_MS old (so later writes are visible in mtime), or null
 * when the file keeps changing for SETTLE_MAX_MS. A future mtime (clock skew, touch -d) is accepted.
 */
export async function settle(fh: FileHandle): Promise<BigIntStats | null> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  for (;;) {
    const st = await stamp(fh);
    const age = Date.now() - Number(st.mtimeNs / 1_000_000n);
    if (age >= QUIET_MS || age < -1000 || ownWrites.get(st.ino) === versionKey(st)) return st;
    if (Date.now() + (QUIET_MS - age) > deadline) return null;
    await sleep(QUIET_MS - age);
  }
}

export function changedError(p: string): AtollError {
  return new AtollError(ErrorCode.RESOURCE_BUSY, `Cannot read ${p}: it kept changing while being read (it is being rewritten in place)`, { path: p, attempts: ATTEMPTS });
}

/** Reads from fh to EOF, at most limit bytes (onTooBig decides what exceeding means). */
async function readToEnd(fh: FileHandle, limit: number, onTooBig: () => Error): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, limit + 1 - total));
    const { bytesRead } = await fh.read(buf, 0, buf.length, total);
    if (bytesRead === 0) break;
    parts.push(buf.subarray(0, bytesRead));
    total += bytesRead;
    if (total > limit) throw onTooBig();
  }
  return Buffer.concat(parts, total);
}

/**
 * The whole content of regular file `p`, up to `limit` bytes, as one consistent version.
 * Files that report size 0 (/proc, /sys) are read to EOF. `check` runs on the first fstat
 * (e.g. refuse non-regular files, or sizes over the limit).
 */
export async function readConsistent(p: string, limit: number, onTooBig: () => Error, check?: (st: BigIntStats) => void): Promise<Buffer> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(5 * attempt); // let the writer finish
    const fh = await fsp.open(p, "r");
    try {
      check?.(await stamp(fh));
      const before = await settle(fh);
      if (!before) continue;
      const buf = await readToEnd(fh, limit, onTooBig);
      const after = await stamp(fh);
      if (unchanged(before, after) && (before.size === 0n || BigInt(buf.length) === before.size)) return buf;
    } finally {
      await fh.close();
    }
  }
  throw changedError(p);
}
