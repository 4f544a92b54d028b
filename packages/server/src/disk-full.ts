// Recognises "the host's disk is full" in errors from fs calls, SQLite and host tools, so the
// control plane answers a coded 507 (HOST_DISK_FULL) instead of a 500 when its data dir fills up.
import { statfsSync } from "node:fs";
import { AtollError, ErrorCode } from "@atoll/protocol";

const ERRNOS = new Set(["ENOSPC", "EDQUOT", "SQLITE_FULL"]);
// host tools (mkfs, cp, mount) report it only in their stderr, which run() puts in the message
const TEXT = /No space left on device|Disk quota exceeded|database or disk is full/;

/** True when `e` says a write failed for lack of space (errno, SQLite code or tool output). */
export function isDiskFull(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  if (typeof err?.code === "string" && ERRNOS.has(err.code)) return true;
  return typeof err?.message === "string" && TEXT.test(err.message);
}

/** Bytes available on the filesystem holding `dir`, as df shows them (root's reserved blocks left out: conservative). */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** The coded 507 for a host write that failed for lack of space. */
export function hostDiskFull(verb: string, e: unknown, context: Record<string, unknown> = {}): AtollError {
  const why = (e as Error)?.message ?? String(e);
  return new AtollError(ErrorCode.HOST_DISK_FULL, `Cannot ${verb}: the data dir's filesystem is full (${why.slice(0, 200)}); free space on the host or destroy sandboxes (DELETE works on a full disk)`, context);
}
