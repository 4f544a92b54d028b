// Does a symlink, followed the way the kernel would, stay inside a root directory? Used after
// extracting an untrusted archive: a lexical check of one link's target is not enough, because
// links compose ("x/l1 -> ." then "x/l2 -> l1/../.." looks like it stays inside but climbs out).
import { lstat, readlink } from "node:fs/promises";
import path from "node:path";

/** Linux's own bound on links followed during one resolution. */
const MAX_LINKS = 40;

/**
 * Resolves `rel` (a path relative to `root`) component by component against the filesystem,
 * following every symlink met (including the last component). Returns false as soon as the walk
 * leaves `root` — through "..", an absolute target, or too many links — and true when it ends
 * inside. Components that do not exist are taken literally (what a later write would create).
 */
export async function staysInside(root: string, rel: string): Promise<boolean> {
  const pending = rel.split("/").filter((c) => c !== "" && c !== ".");
  const at: string[] = []; // components below root, each a real directory (or a missing name)
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === "..") {
      if (at.length === 0) return false;
      at.pop();
      continue;
    }
    const here = path.join(root, ...at, c);
    const st = await lstat(here).catch(() => null);
    if (!st?.isSymbolicLink()) {
      at.push(c);
      continue;
    }
    if (++links > MAX_LINKS) return false;
    const target = await readlink(here);
    if (path.isAbsolute(target)) return false;
    pending.unshift(...target.split("/").filter((t) => t !== "" && t !== "."));
  }
  return true;
}
