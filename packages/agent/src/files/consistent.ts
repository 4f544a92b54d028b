// Reads that never return a torn file. Everything is read from one open file descriptor, and the
// file's identity and change stamps (fstat: inode, size, mtime, ctime in ns) are compared before and
// after: a file rewritten in place meanwhile (by a process that does not replace it atomically) is
// read again, and after a few tries the read fails with RESOURCE_BUSY instead of mixing versions.
// Writes through the agent replace files atomically (atomic.ts), so they never cause a retry.
import type { BigIntStats } from "node:fs";
import fsp, { type FileHandle } from "node:fs/promises";
import { AtollError, ErrorCode } from "@atoll/protocol";

const ATTEMPTS = 5;

export async function stamp(fh: FileHandle): Promise<BigIntStats> {
  return fh.stat({ bigint: true });
}

/** True when nothing about the file's content changed between the two stamps. */
export function unchanged(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
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
    if (attempt > 0) await new Promise((r) => setTimeout(r, 5 * attempt)); // let the writer finish
    const fh = await fsp.open(p, "r");
    try {
      const before = await stamp(fh);
      check?.(before);
      const buf = await readToEnd(fh, limit, onTooBig);
      const after = await stamp(fh);
      if (unchanged(before, after) && (before.size === 0n || BigInt(buf.length) === before.size)) return buf;
    } finally {
      await fh.close();
    }
  }
  throw changedError(p);
}
