// Extracts a tar archive made by a sandbox onto the local machine, treating it as hostile: the
// sandbox (or whatever answers in its place) chooses every byte, and the extracting user is often
// root. Built on node-tar (its path checks and refusal to write through symlinks) plus a stricter
// policy of our own; every refused entry is reported, never silently dropped.
//
//   kept:      regular files, directories, symlinks and hard links that stay inside the destination
//   never:     owners from the archive (files belong to the extracting user), setuid/setgid/sticky
//              bits, device nodes, FIFOs, sockets, absolute paths, "..", symlinks whose target
//              (followed through the links already on disk) leaves the destination, hard links to
//              anything but a regular file extracted earlier from the same archive
//   bounded:   number of entries and total bytes (LIMIT_EXCEEDED), path depth (node-tar: 1024)
import path from "node:path";
import type { Readable } from "node:stream";
import { chmod, lstat, unlink } from "node:fs/promises";
import * as tar from "tar";
import { ErrorCode, codeForErrno, type SkippedEntry } from "@atoll/protocol";
import { sdkError } from "./errors.js";
import { staysInside } from "./node-link-check.js";

export type { SkippedEntry };

export interface ExtractLimits {
  /** Most entries accepted (default 1,000,000). */
  maxEntries?: number;
  /** Most entry bytes (file data, and any body another entry type declares) in total (default 64 GiB). */
  maxBytes?: number;
}

export interface ExtractReport {
  entries: number;
  bytes: number;
  /** Entries not extracted (or changed: dropped mode bits), one per line of a warning. */
  skipped: SkippedEntry[];
}

export const DEFAULT_MAX_ENTRIES = 1_000_000;
export const DEFAULT_MAX_BYTES = 64 * 2 ** 30;

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);

/** A relative archive path without "..", "." noise or a leading "/" — or null when it has either. */
function cleanRelative(p: string): string | null {
  if (p.startsWith("/") || p.includes("\0")) return null;
  const parts = p.split("/").filter((c) => c !== "" && c !== ".");
  if (parts.includes("..")) return null;
  return parts.join("/");
}

/** Streams an untrusted tar (plain or gzip) into `dest`, which must exist. */
export async function extractUntrusted(input: Readable, dest: string, limits: ExtractLimits = {}, what = "archive"): Promise<ExtractReport> {
  const maxEntries = limits.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const root = path.resolve(dest);
  const skipped: SkippedEntry[] = [];
  const files = new Set<string>(); // regular files this archive wrote: the only hard-link targets
  const links: string[] = []; // symlinks this archive wrote, checked once everything is on disk
  const written: string[] = []; // every non-directory path, for the final check
  let entries = 0;
  let bytes = 0;
  let fatal: Error | null = null;
  const skip = (p: string, reason: string) => skipped.push({ path: p, reason });

  const unpack = tar.x({
    cwd: root,
    preserveOwner: false, // node-tar's default is to keep archive owners when run as root
    filter: (p, e) => {
      const entry = e as tar.ReadEntry;
      if (fatal) return false;
      if (++entries > maxEntries) {
        fatal = sdkError(ErrorCode.LIMIT_EXCEEDED, `Cannot extract ${what}: more than ${maxEntries} entries (what came before is extracted)`, { maxEntries, path: root });
        unpack.abort(fatal);
        return false;
      }
      const rel = cleanRelative(p);
      if (rel === null) return (skip(p, "absolute path or '..' component"), false);
      const type = entry.type;
      // Every entry's declared body counts (a "directory" with a 1 TB body would stream forever).
      bytes += entry.size ?? 0;
      if (bytes > maxBytes) {
        fatal = sdkError(ErrorCode.LIMIT_EXCEEDED, `Cannot extract ${what}: more than ${maxBytes} bytes (what came before is extracted)`, { maxBytes, path: root });
        unpack.abort(fatal);
        return false;
      }
      if (FILE_TYPES.has(type)) {
        files.add(rel);
        written.push(rel);
      } else if (type === "Directory") {
        if (rel === "") return false; // the destination itself: it exists, nothing of it changes
        files.delete(rel);
      } else if (type === "SymbolicLink") {
        const target = String(entry.linkpath ?? "");
        if (target === "" || path.isAbsolute(target)) return (skip(p, `symlink to an absolute path (${JSON.stringify(target)})`), false);
        const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
        if (resolved === ".." || resolved.startsWith("../")) return (skip(p, `symlink leaves the destination (${JSON.stringify(target)})`), false);
        files.delete(rel);
        links.push(rel);
        written.push(rel);
      } else if (type === "Link") {
        const target = cleanRelative(String(entry.linkpath ?? ""));
        if (target === null || !files.has(target)) return (skip(p, `hard link to something that is not a file of this archive (${JSON.stringify(entry.linkpath)})`), false);
        files.add(rel);
        written.push(rel);
      } else {
        return (skip(p, `${type} entries are never extracted (devices, FIFOs and sockets are refused)`), false);
      }
      if (typeof entry.mode === "number" && entry.mode & 0o7000) {
        skip(p, `setuid/setgid/sticky bits dropped (mode ${(entry.mode & 0o7777).toString(8)})`);
        entry.mode &= 0o777;
      }
      return true;
    },
    onwarn: (code, message, data) => {
      if (code === "TAR_ENTRY_INFO") return;
      const p = String((data.entry as { path?: string } | undefined)?.path ?? data.path ?? "");
      const errno = String(data.code ?? "");
      if (/^E[A-Z0-9]+$/.test(errno) && !["ELOOP", "ENOTDIR", "EEXIST", "EISDIR", "ENOTEMPTY"].includes(errno) && !fatal) {
        fatal = sdkError(codeForErrno(errno), `Cannot extract ${what} into ${root}: ${p}: ${message}`, { path: root, entry: p, errno });
        unpack.abort(fatal);
        return;
      }
      skip(p, message);
    },
  });

  const finished = new Promise<void>((resolve, reject) => {
    unpack.once("finish", resolve);
    unpack.once("error", reject);
  });
  finished.catch(() => {});
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (fatal) break;
      if (!unpack.write(chunk)) await Promise.race([new Promise((r) => unpack.once("drain", r)), finished]);
    }
    unpack.end();
    await finished;
  } catch (e) {
    if (fatal) throw fatal;
    const err = e as Error & { tarCode?: string };
    if (err.tarCode) throw sdkError(ErrorCode.VALIDATION_FAILED, `Cannot extract ${what}: ${err.message.replace(/^TAR_[A-Z_]+: /, "")}`, { path: root });
    throw e;
  } finally {
    input.destroy();
  }
  if (fatal) throw fatal;

  await removeEscapingLinks(root, links, skip);
  await removeOddities(root, written, skip);
  return { entries, bytes, skipped };
}

/** Symlinks whose target, followed through the links now on disk, leaves root: removed (repeat until none). */
async function removeEscapingLinks(root: string, links: string[], skip: (p: string, why: string) => void): Promise<void> {
  let left = [...new Set(links)];
  for (let changed = true; changed; ) {
    changed = false;
    const keep: string[] = [];
    for (const rel of left) {
      const st = await lstat(path.join(root, rel)).catch(() => null);
      if (!st?.isSymbolicLink()) continue; // replaced by a later entry, or never created
      if (await staysInside(root, rel)) {
        keep.push(rel);
        continue;
      }
      await unlink(path.join(root, rel));
      skip(rel, "symlink leaves the destination once other links are followed (removed)");
      changed = true;
    }
    left = keep;
  }
}

/** Defence in depth: nothing but files, directories and symlinks, and no special mode bits, on what we wrote. */
async function removeOddities(root: string, written: string[], skip: (p: string, why: string) => void): Promise<void> {
  for (const rel of new Set(written)) {
    const abs = path.join(root, rel);
    const st = await lstat(abs).catch(() => null);
    if (!st || st.isSymbolicLink() || st.isDirectory()) continue;
    if (!st.isFile()) {
      await unlink(abs);
      skip(rel, "not a regular file after extraction (removed)");
    } else if (st.mode & 0o7000) {
      // e.g. an existing setuid file reused by node-tar: root writing into it keeps the bit.
      await chmod(abs, st.mode & 0o777);
      skip(rel, `setuid/setgid/sticky bits removed from the existing file (mode ${(st.mode & 0o7777).toString(8)})`);
    }
  }
}
