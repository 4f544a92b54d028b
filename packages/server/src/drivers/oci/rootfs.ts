// Root filesystem per sandbox: overlay (lower = uid-shifted template rootfs, upper/work on the
// sandbox's own sparse ext4 image so the disk limit is a real filesystem size). Both layers are in
// the storage range; idmap.ts mounts them idmapped into the sandbox's own range.
import { chmodSync, existsSync, readdirSync, statSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { alive, run } from "./exec.js";

const building = new Map<string, Promise<void>>();

/**
 * Returns a copy of `src` whose owners are shifted by uidBase (root inside = uidBase outside), built
 * once per (image, uidBase) and cached next to the image as <image>.uid<uidBase>/rootfs, so every
 * data dir on the host shares it. Concurrent builders race safely via rename.
 */
export function shiftedBase(src: string, uidBase: number, uidCount: number): Promise<string> {
  const real = realpathSync(src);
  const key = `${real}.uid${uidBase}`;
  const final = key;
  const rootfs = path.join(final, "rootfs");
  if (existsSync(path.join(final, ".complete"))) {
    // root only: its setuid files are owned by the storage range (copies made by older versions were 0755)
    chmodSync(final, 0o700);
    return Promise.resolve(rootfs);
  }
  let p = building.get(key);
  if (!p) {
    p = buildShifted(real, final, uidBase, uidCount).finally(() => building.delete(key));
    building.set(key, p);
  }
  return p.then(() => rootfs);
}

async function buildShifted(src: string, final: string, uidBase: number, uidCount: number): Promise<void> {
  removeStaleBuilds(final);
  const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  try {
    await run("cp", ["-a", "--reflink=auto", src, path.join(tmp, "rootfs")], { timeoutMs: 600_000 });
    await shiftTree(path.join(tmp, "rootfs"), uidBase, uidCount);
    writeFileSync(path.join(tmp, ".complete"), `${src}\n`);
    try {
      renameSync(tmp, final);
    } catch (e) {
      if (!existsSync(path.join(final, ".complete"))) throw e; // someone else finished first: fine
    }
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Removes half-built copies left by builders that died (<final>.tmp-<pid>-<ms> of dead pids). */
function removeStaleBuilds(final: string): void {
  const dir = path.dirname(final);
  const prefix = `${path.basename(final)}.tmp-`;
  for (const e of readdirSync(dir)) {
    if (!e.startsWith(prefix)) continue;
    const pid = Number(e.slice(prefix.length).split("-")[0]);
    if (pid === process.pid || alive(pid)) continue;
    rmSync(path.join(dir, e), { recursive: true, force: true });
  }
}

/** lchown every entry by +uidBase; restores setuid/setgid bits that chown clears. */
async function shiftTree(root: string, uidBase: number, uidCount: number): Promise<void> {
  const queue: string[] = [root];
  const shiftOne = async (p: string) => {
    const st = await fs.lstat(p);
    if (st.uid >= uidCount || st.gid >= uidCount) return; // already shifted or foreign
    await fs.lchown(p, st.uid + uidBase, st.gid + uidBase);
    if (!st.isSymbolicLink() && st.mode & 0o6000) await fs.chmod(p, st.mode & 0o7777);
  };
  await shiftOne(root);
  while (queue.length) {
    const batch = queue.splice(0, 64);
    await Promise.all(
      batch.map(async (dir) => {
        const entries = await fs.readdir(dir, { withFileTypes: true });
        for (let i = 0; i < entries.length; i += 128) {
          await Promise.all(
            entries.slice(i, i + 128).map(async (e) => {
              const p = path.join(dir, e.name);
              await shiftOne(p);
              if (e.isDirectory()) queue.push(p);
            }),
          );
        }
      }),
    );
  }
}

export function isMounted(target: string): boolean {
  const esc = target.replace(/ /g, "\\040");
  return readFileSync("/proc/mounts", "utf8").split("\n").some((l) => l.split(" ")[1] === esc);
}

/** Mount points strictly below dir (deepest first). */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.replace(/ /g, "\\040") + "/";
  return readFileSync("/proc/mounts", "utf8").split("\n").map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m.startsWith(prefix)).map((m) => m.replace(/\\040/g, " ")).sort((a, b) => b.length - a.length);
}

export async function unmount(target: string): Promise<void> {
  for (let i = 0; i < 3 && isMounted(target); i++) {
    const r = await run("umount", [target], { allowFail: true });
    if (r.code !== 0) await run("umount", ["-l", target], { allowFail: true });
  }
}

/** Creates the sandbox's sparse ext4 disk image of sizeMiB if missing; grows it (never shrinks). */
export async function ensureDisk(img: string, sizeMiB: number): Promise<void> {
  if (existsSync(img)) {
    const want = sizeMiB * 1024 * 1024;
    if (statSync(img).size < want) {
      // grow offline (not mounted while stopped): extend the sparse file, then the filesystem
      const fd = openSync(img, "r+");
      try { ftruncateSync(fd, want); } finally { closeSync(fd); }
      await run("e2fsck", ["-f", "-p", img], { allowFail: true });
      await run("resize2fs", ["-f", img]);
    }
    return;
  }
  const tmp = `${img}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try { ftruncateSync(fd, sizeMiB * 1024 * 1024); } finally { closeSync(fd); }
  await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", tmp]);
  renameSync(tmp, img);
}

/**
 * Loop-mounts the disk image and prepares upper/work owned by the sandbox's root. `discard`: blocks
 * freed inside go back to the host at once (the loop device punches holes in the sparse image).
 */
export async function mountDisk(img: string, mnt: string, rootUid: number): Promise<{ upper: string; work: string }> {
  mkdirSync(mnt, { recursive: true });
  if (!isMounted(mnt)) await run("mount", ["-o", "loop,nosuid,nodev,discard", img, mnt]);
  const upper = path.join(mnt, "upper");
  const work = path.join(mnt, "work");
  for (const d of [upper, work]) {
    if (!existsSync(d)) {
      mkdirSync(d, { mode: 0o755 });
    }
  }
  await fs.chown(upper, rootUid, rootUid);
  return { upper, work };
}

/** Size in bytes of a directory tree (for snapshot reports). */
export async function treeSize(dir: string): Promise<number> {
  const r = await run("du", ["-sb", dir], { allowFail: true });
  return Number(r.stdout.split(/\s/)[0]) || 0;
}
