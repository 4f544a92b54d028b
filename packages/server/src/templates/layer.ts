// Applies one image layer (a tar stream) onto a root directory with OCI/Docker layer semantics:
// entries in order, ".wh.<name>" deletes <name> from lower layers, ".wh..wh..opq" makes a
// directory opaque (hides everything lower layers put in it). Ownership, modes (incl. setuid)
// and mtimes are kept as in the image (uid 0 = root in the sandbox; the driver shifts uids).
// Refused: ".." entries, hard links to outside the root. Skipped: device nodes and fifos
// (the runtime provides /dev), which are counted in the result.
import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, readdir, rm, symlink } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import tar from "tar-stream";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { entryComponents, resolveDir } from "./paths.js";

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

export interface LayerStats {
  entries: number;
  bytes: number;
  whiteouts: number;
  skipped: number;
}

export interface ApplyOptions {
  /** Stop with INVALID_TEMPLATE once this many file bytes were written in total (tar-bomb guard). */
  maxBytes?: number;
  /** Bytes already written by earlier layers (counts toward maxBytes). */
  bytesBefore?: number;
  /** Stop with INVALID_TEMPLATE after this many entries in total (inode-bomb guard). */
  maxEntries?: number;
  entriesBefore?: number;
}

/** Reads an uncompressed layer tar from `input` and applies it to `root`. */
export async function applyLayer(root: string, input: Readable, opts: ApplyOptions = {}): Promise<LayerStats> {
  const stats: LayerStats = { entries: 0, bytes: 0, whiteouts: 0, skipped: 0 };
  const maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const before = opts.bytesBefore ?? 0;
  // Host paths this layer wrote (and their ancestors): an opaque dir keeps only these.
  const written = new Set<string>();
  const known = new Set<string>();
  const extract = tar.extract();
  let feedError: unknown = null;
  input.on("error", (e) => {
    feedError = e;
    extract.destroy(e);
  });
  input.pipe(extract as unknown as NodeJS.WritableStream);

  const mark = (p: string) => {
    for (let q = p; q.length > root.length && !written.has(q); q = path.dirname(q)) written.add(q);
  };

  try {
    for await (const entry of extract) {
      const h = entry.header;
      stats.entries++;
      if ((opts.entriesBefore ?? 0) + stats.entries > (opts.maxEntries ?? Number.MAX_SAFE_INTEGER)) {
        throw new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot import image: it has more than ${opts.maxEntries} entries`, { maxEntries: opts.maxEntries });
      }
      const comps = entryComponents(h.name);
      if (comps.length === 0) {
        // The root directory itself ("./"): keep the root's own mode as made by us.
        entry.resume();
        continue;
      }
      const base = comps[comps.length - 1]!;
      const parentComps = comps.slice(0, -1);

      if (base === OPAQUE) {
        entry.resume();
        stats.whiteouts++;
        const dir = await resolveDir(root, parentComps, false, known);
        if (dir) await pruneExcept(dir, written);
        known.clear();
        continue;
      }
      if (base.startsWith(WHITEOUT)) {
        entry.resume();
        stats.whiteouts++;
        const victim = base.slice(WHITEOUT.length);
        if (victim === "" || victim === "." || victim === "..") throw new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot import image layer: bad whiteout ${h.name}`, { entry: h.name });
        const dir = await resolveDir(root, parentComps, false, known);
        if (dir) await rm(path.join(dir, victim), { recursive: true, force: true });
        known.clear();
        continue;
      }

      const type = h.type ?? "file";
      if (type === "character-device" || type === "block-device" || type === "fifo") {
        entry.resume();
        stats.skipped++;
        continue;
      }
      const dir = (await resolveDir(root, parentComps, true, known))!;
      const dest = path.join(dir, base);
      mark(dest);
      const existing = await lstat(dest).catch(() => null);
      const mode = (h.mode ?? 0o644) & 0o7777;
      const uid = h.uid ?? 0;
      const gid = h.gid ?? 0;

      if (type === "directory") {
        entry.resume();
        if (existing && !existing.isDirectory()) await rm(dest, { force: true });
        if (!existing || !existing.isDirectory()) await mkdir(dest);
        await chown(dest, uid, gid);
        await chmod(dest, mode);
        continue;
      }
      if (existing) {
        await rm(dest, { recursive: true, force: true });
        known.clear();
      }
      if (type === "symlink") {
        entry.resume();
        await symlink(h.linkname ?? "", dest);
        await lchown(dest, uid, gid);
        if (h.mtime) await lutimes(dest, h.mtime, h.mtime);
      } else if (type === "link") {
        entry.resume();
        const target = await resolveLinkTarget(root, h.linkname ?? "", known);
        await link(target, dest);
      } else if (type === "file" || type === "contiguous-file") {
        const fh = await open(dest, "wx", 0o600);
        try {
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            stats.bytes += chunk.length;
            if (before + stats.bytes > maxBytes) {
              throw new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot import image: it unpacks to more than ${maxBytes} bytes`, { maxBytes });
            }
            await fh.write(chunk);
          }
        } finally {
          await fh.close();
        }
        await chown(dest, uid, gid);
        await chmod(dest, mode); // after chown, which clears setuid/setgid bits
        if (h.mtime) await lutimes(dest, h.mtime, h.mtime);
      } else {
        // pax/gnu meta headers are consumed by tar-stream; anything else is unknown.
        entry.resume();
        stats.skipped++;
      }
    }
  } catch (e) {
    input.unpipe();
    input.destroy();
    throw feedError ?? e;
  }
  if (feedError) throw feedError;
  return stats;
}

/** A hard link's target: must already exist inside root and not be a directory. */
async function resolveLinkTarget(root: string, linkname: string, known: Set<string>): Promise<string> {
  const comps = entryComponents(linkname);
  if (comps.length === 0) throw new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot import image layer: hard link to the root`, { linkname });
  const dir = await resolveDir(root, comps.slice(0, -1), false, known);
  const target = dir && path.join(dir, comps[comps.length - 1]!);
  const st = target ? await lstat(target).catch(() => null) : null;
  if (!target || !st || st.isDirectory()) {
    throw new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot import image layer: hard link target ${JSON.stringify(linkname.slice(0, 200))} is missing or a directory`, { linkname: linkname.slice(0, 200) });
  }
  return target;
}

/** Opaque directory: removes everything below dir that this layer did not write. */
async function pruneExcept(dir: string, keep: Set<string>): Promise<void> {
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (!keep.has(p)) await rm(p, { recursive: true, force: true });
    else if (d.isDirectory()) await pruneExcept(p, keep);
  }
}
