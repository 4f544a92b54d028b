// Idmapped root filesystems: every sandbox's overlay is built from idmapped mounts of the shared
// layers, so storage stays in one range (uidBase.., the uid-shifted template copy and every disk)
// while each sandbox sees — and its processes own — only its own host range (uidrange.ts).
// No copy per sandbox, and storage made before per-sandbox ranges existed stays valid.
// The syscalls (open_tree, mount_setattr(MOUNT_ATTR_IDMAP), move_mount) are not reachable from Node
// and Debian 12's mount(8) lacks X-mount.idmap, so a small C helper does it (native/idmap-overlay.c),
// compiled once per host (per source version) into <runDir>/bin with the host's C compiler.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { run } from "./exec.js";

const SOURCE = fileURLToPath(new URL("../../../native/idmap-overlay.c", import.meta.url));

let built: Promise<string> | undefined;

/** Path of the compiled helper, building it first if this source version has not been built. */
export function idmapHelper(runDir: string): Promise<string> {
  built ??= build(runDir).catch((e) => { built = undefined; throw e; });
  return built;
}

async function build(runDir: string): Promise<string> {
  const src = readFileSync(SOURCE);
  const dir = path.join(runDir, "bin");
  const bin = path.join(dir, `atoll-idmap-overlay-${createHash("sha256").update(src).digest("hex").slice(0, 12)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${bin}.tmp-${process.pid}`;
  const r = await run("cc", ["-O2", "-o", tmp, SOURCE], { allowFail: true, timeoutMs: 120_000 }).catch((e: Error) => ({ code: 127, stdout: "", stderr: e.message }));
  if (r.code !== 0) {
    rmSync(tmp, { force: true });
    throw new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot start the oci driver: building the idmapped-mount helper failed (a C compiler is needed: apt-get install gcc libc6-dev): ${r.stderr.trim().slice(-300)}`);
  }
  chmodSync(tmp, 0o700);
  renameSync(tmp, bin);
  return bin;
}

export interface IdmappedOverlay {
  helper: string;
  /** Storage range (files on disk are owned by storageBase..) shown as sandboxBase.. */
  storageBase: number;
  sandboxBase: number;
  count: number;
  /** uid-shifted template rootfs (read-only lower layer). */
  lower: string;
  /** Mounted disk holding upper/ and work/. */
  disk: string;
  /** Empty private dir for the helper's transient mounts. */
  stage: string;
  target: string;
}

/** Mounts target as overlay(lower, disk/upper) with both layers idmapped; nosuid,nodev throughout. */
export async function mountIdmappedOverlay(o: IdmappedOverlay): Promise<void> {
  mkdirSync(o.stage, { recursive: true, mode: 0o700 });
  mkdirSync(o.target, { recursive: true });
  await run(o.helper, [o.storageBase, o.sandboxBase, o.count, o.lower, o.disk, o.stage, o.target].map(String));
}
