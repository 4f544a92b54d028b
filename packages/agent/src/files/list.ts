// list-files: directory entries with Cloudflare's FileInfo metadata, optionally recursive.
import fs from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { AtollError, ErrorCode, type FileInfo } from "@atoll/protocol";

/** Listing stops here and reports truncated: true, so one call cannot exhaust the agent. */
export const MAX_LIST_ENTRIES = 100_000;

const uid = typeof process.getuid === "function" ? process.getuid() : -1;
const gids = new Set<number>(typeof process.getgroups === "function" ? process.getgroups() : []);
if (typeof process.getgid === "function") gids.add(process.getgid());

export function modeString(mode: number): string {
  const chars = "rwxrwxrwx";
  let s = "";
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? chars[i] : "-";
  return s;
}

/** Access for this process from the mode bits (root may read/write anything, execute if any x bit). */
export function permissionsFor(st: Stats): FileInfo["permissions"] {
  const m = st.mode;
  if (uid === 0) return { readable: true, writable: true, executable: st.isDirectory() || (m & 0o111) !== 0 };
  const shift = st.uid === uid ? 6 : gids.has(st.gid) ? 3 : 0;
  return { readable: (m & (4 << shift)) !== 0, writable: (m & (2 << shift)) !== 0, executable: (m & (1 << shift)) !== 0 };
}

function typeOf(st: Stats): FileInfo["type"] {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isDirectory()) return "directory";
  if (st.isFile()) return "file";
  return "other";
}

export interface ListOutcome {
  files: FileInfo[];
  truncated: boolean;
}

export async function listFiles(root: string, recursive: boolean, includeHidden: boolean): Promise<ListOutcome> {
  const st = await fs.stat(root);
  if (!st.isDirectory()) throw new AtollError(ErrorCode.NOT_DIRECTORY, `Cannot list ${root}: not a directory`, { path: root });
  const files: FileInfo[] = [];
  // Breadth-first over directories; symlinked directories are listed, never followed.
  const queue: string[] = [root];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (e) {
      if (dir === root) throw e;
      continue; // a subdirectory vanished or is unreadable: skip it
    }
    names.sort();
    for (const name of names) {
      if (!includeHidden && name.startsWith(".")) continue;
      const abs = path.join(dir, name);
      const est = await fs.lstat(abs).catch(() => null);
      if (!est) continue;
      if (files.length >= MAX_LIST_ENTRIES) return { files, truncated: true };
      files.push({
        name,
        absolutePath: abs,
        relativePath: path.relative(root, abs),
        type: typeOf(est),
        size: est.size,
        modifiedAt: est.mtime.toISOString(),
        mode: modeString(est.mode),
        permissions: permissionsFor(est),
      });
      if (recursive && est.isDirectory()) queue.push(abs);
    }
  }
  return { files, truncated: false };
}
