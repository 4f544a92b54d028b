// Path safety for image import: archive entry names and symlinks are untrusted. Every host path
// we touch is resolved *inside* the image root with chroot semantics (absolute symlink targets
// start at the root, ".." stops at the root), so the host never follows an image's link outward.
import { lstat, mkdir, readlink } from "node:fs/promises";
import path from "node:path";
import { AtollError, ErrorCode } from "@atoll/protocol";

const MAX_LINK_HOPS = 40;

/** Splits an archive entry name into clean components; refuses ".." and NUL (path traversal). */
export function entryComponents(name: string): string[] {
  if (name.includes("\0")) throw invalid(`entry name contains a NUL byte`, name);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw invalid(`entry ${JSON.stringify(name.slice(0, 200))} escapes the image root ("..")`, name);
  return parts;
}

function invalid(why: string, name: string): AtollError {
  return new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot import image layer: ${why}`, { entry: name.slice(0, 200) });
}

async function lstatOrNull(p: string) {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * Resolves directory components to a real host directory under root, following symlinks with
 * chroot semantics. With create=true, missing directories are made (mode 0755); with
 * create=false a missing one resolves to null. A non-directory in the way is an error.
 * `known` caches relative dirs already verified as real directories (callers clear it on deletes).
 */
export async function resolveDir(root: string, comps: string[], create: boolean, known?: Set<string>): Promise<string | null> {
  const stack: string[] = [];
  const queue = [...comps];
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      stack.pop();
      continue;
    }
    const rel = stack.length ? `${stack.join("/")}/${c}` : c;
    if (known?.has(rel)) {
      stack.push(c);
      continue;
    }
    const p = path.join(root, rel);
    const st = await lstatOrNull(p);
    if (!st) {
      if (!create) return null;
      await mkdir(p, { mode: 0o755 });
      known?.add(rel);
      stack.push(c);
    } else if (st.isSymbolicLink()) {
      if (++hops > MAX_LINK_HOPS) throw invalid(`too many symbolic links resolving ${comps.join("/")}`, comps.join("/"));
      const target = await readlink(p);
      if (target.startsWith("/")) stack.length = 0;
      queue.unshift(...target.split("/"));
    } else if (st.isDirectory()) {
      known?.add(rel);
      stack.push(c);
    } else {
      throw invalid(`${rel} is not a directory but a later entry needs it to be one`, comps.join("/"));
    }
  }
  return stack.length ? path.join(root, ...stack) : root;
}
