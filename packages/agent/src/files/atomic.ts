// Atomic file replacement for /api/write and PUT /api/files/raw: the new bytes go to a temporary
// file in the target's directory, which takes the old file's owner and mode, and is renamed over
// the target only once complete. A concurrent reader sees the old content or the new, never a mix
// (rename(2) swaps the name in one step; a reader that already opened the old file keeps it).
// Not fsynced: this is about what concurrent readers see, not about surviving a power cut.
// A hard-linked target is replaced by a new inode (the other names keep the old content), as
// editors that save atomically do. A bind-mounted file cannot be renamed over (EBUSY): it is
// written in place, not atomically (a read-only one fails as before with READ_ONLY); so is a file
// whose owner the agent cannot give to a new file (an id unmapped in the sandbox's user namespace),
// and one in a directory where no new file can be made (/proc, /sys).
import crypto from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import fsp, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { noteOwnWrite } from "./consistent.js";

/** Linux's own bound on links followed during one resolution. */
const MAX_LINKS = 40;

/** The path a write to `p` lands on: a symlink (chain) at p is followed, so the link stays a link. */
async function landingPath(p: string): Promise<string> {
  let cur = p;
  for (let i = 0; i < MAX_LINKS; i++) {
    const st = await fsp.lstat(cur).catch(() => null);
    if (!st?.isSymbolicLink()) return cur;
    cur = path.resolve(path.dirname(cur), await fsp.readlink(cur));
  }
  throw Object.assign(new Error(`ELOOP: too many symbolic links, open '${p}'`), { code: "ELOOP" });
}

async function existingFile(target: string, p: string, verb: string): Promise<Stats | null> {
  const st = await fsp.stat(target).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (st?.isDirectory()) throw new AtollError(ErrorCode.IS_DIRECTORY, `Cannot ${verb} ${p}: it is a directory`, { path: p });
  if (st && !st.isFile()) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot ${verb} ${p}: not a regular file`, { path: p });
  return st;
}

/** The non-atomic fallback: truncate the target and write into it (owner and mode untouched). */
async function writeInPlace<T>(target: string, fill: (fh: FileHandle) => Promise<T>): Promise<T> {
  const fh = await fsp.open(target, "w");
  try {
    return await fill(fh);
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * Replaces the file at `p` (creating parents) with what `fill` writes into the temporary file's
 * handle. `fill` may close the handle (a stream with autoClose does). On any failure the temporary
 * file is removed and the target is untouched.
 */
export async function replaceFile<T>(p: string, fill: (fh: FileHandle) => Promise<T>, verb = "write"): Promise<T> {
  const target = await landingPath(p);
  const old = await existingFile(target, p, verb);
  const dir = path.dirname(target);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.atoll-${crypto.randomBytes(6).toString("hex")}`);
  // New files get the usual 0666 minus umask; a replaced file keeps its owner and mode.
  let fh: FileHandle;
  try {
    fh = await fsp.open(tmp, "wx", old ? 0o600 : 0o666);
  } catch (e) {
    // No new file possible beside an existing one (/proc, /sys, a directory the agent cannot
    // write): write the existing file in place, as before atomic writes.
    if (old && ["EACCES", "EPERM", "ENOENT"].includes(String((e as NodeJS.ErrnoException).code))) return writeInPlace(target, fill);
    throw e;
  }
  try {
    if (old) {
      // chown first: it clears setuid/setgid, which chmod then restores.
      const owned = await fh.chown(old.uid, old.gid).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code !== "EPERM" && e.code !== "EINVAL") throw e;
          return false;
        },
      );
      if (!owned && old.uid !== process.getuid?.()) {
        // An owner we cannot give (unmapped in the user namespace, or an unprivileged agent):
        // replacing would change the file's owner, so write in place instead (not atomic).
        await fh.close();
        await fsp.unlink(tmp);
        return await writeInPlace(target, fill);
      }
      await fh.chmod(old.mode & 0o7777);
    }
    const result = await fill(fh);
    await fh.close().catch(() => {}); // already closed by a stream: fine
    const done = await fsp.stat(tmp, { bigint: true });
    try {
      await fsp.rename(tmp, target);
      noteOwnWrite(done);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!["EBUSY", "EXDEV", "EACCES", "EPERM"].includes(String(code))) throw e;
      // The target is a mount point (a bind-mounted file; the kernel answers EBUSY, or EACCES when
      // its owner is unmapped here): no rename over it, so write in place (a read-only one: EROFS).
      // (open + write, not copyFile: libuv's copyfile also chmods the target, which fails first)
      await writeInPlace(target, (out) => pipeline(createReadStream(tmp), out.createWriteStream()));
      await fsp.unlink(tmp).catch(() => {});
    }
    return result;
  } catch (e) {
    await fh.close().catch(() => {});
    await fsp.unlink(tmp).catch(() => {});
    throw e;
  }
}
