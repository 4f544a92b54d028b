// Snapshot = a copy of the sandbox's writable layer (overlay upper dir: files, whiteouts, xattrs).
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { run } from "./exec.js";
import type { Layout } from "./records.js";
import { mountDisk, treeSize, unmount } from "./rootfs.js";

/**
 * Copies upper/ to destDir. live: the sandbox is up (its disk is mounted); before/after bracket the
 * copy (freeze/thaw a running sandbox so the copy is consistent). undefined: stopped — the disk is
 * mounted for the copy only.
 */
export async function copyWritableLayer(
  layout: Layout,
  rootUid: number,
  name: string,
  destDir: string,
  live: { before?: () => Promise<void>; after?: () => Promise<void> } | undefined,
): Promise<{ sizeBytes: number }> {
  const upper = path.join(layout.diskMnt(name), "upper");
  mkdirSync(destDir, { recursive: true });
  const copy = () => run("cp", ["-a", `${upper}/.`, `${destDir}/`], { timeoutMs: 600_000 });
  if (live) {
    await live.before?.();
    try { await copy(); } finally { await live.after?.(); }
  } else {
    if (!existsSync(layout.disk(name))) return { sizeBytes: 0 };
    await mountDisk(layout.disk(name), layout.diskMnt(name), rootUid);
    try { await copy(); } finally { await unmount(layout.diskMnt(name)); }
  }
  return { sizeBytes: await treeSize(destDir) };
}
