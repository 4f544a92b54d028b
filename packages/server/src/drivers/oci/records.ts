// Per-sandbox state on disk (<dataDir>/sandboxes/<name>/state.json) and host-unique naming.
// <name> is the public id, or "_pool-xxxx" for pre-started pool sandboxes; a claimed pool sandbox
// gets a symlink sandboxes/<id> -> _pool-xxxx, so lookups by id work across restarts.
import { closeSync, existsSync, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import { isValidSandboxId, type SandboxLimits } from "@atoll/protocol";
import { isDiskFull } from "../../disk-full.js";
import { writePrivateFile } from "../../private-files.js";
import type { ResolvedConfig } from "./config.js";
import { ipToInt } from "./ipam.js";

export interface SandboxRecord {
  /** Internal name: directory, container, netns and cgroup are derived from it. */
  name: string;
  /** Public id; null while the sandbox sits unclaimed in the pool. */
  id: string | null;
  template: string;
  rootfs: string;
  limits: SandboxLimits;
  env: Record<string, string>;
  startup?: string;
  workdir?: string;
  egress: boolean;
  createdAt: string;
  /** Snapshot dir that seeds the writable layer on first start (fork). */
  fromSnapshotDir?: string;
  /** The writable layer was seeded (from a snapshot) already. */
  seeded?: boolean;
  /** Address while running (also held in the host-global IPAM). */
  ip?: string;
  /**
   * The agent key of the running instance (new on every start; see types.ts SandboxEndpoint). Kept
   * here so a restarted control plane can talk to the sandboxes it adopts: this file is 0600.
   */
  agentKey?: string;
  /** Host pid of the sandbox's init while running (cheap liveness check for pool claims). */
  pid?: number;
  /** Pool entries: pid of the control plane that owns them (stale entries of dead pids are reaped). */
  poolOwnerPid?: number;
  /**
   * Host uid (and gid) of root inside this sandbox: the first id of its user-namespace range
   * (uidCount ids). Assigned by the first start, kept across restarts, gone with the sandbox.
   * Read it through rootHostUid(), the one place other code asks "who is this sandbox on the host".
   */
  rootUid?: number;
}

/** The host uid (= gid) that root inside the sandbox maps to; undefined before its first start. */
export function rootHostUid(rec: SandboxRecord): number | undefined {
  return rec.rootUid;
}

export class Layout {
  constructor(private readonly cfg: ResolvedConfig) {}
  dir(name: string) { return path.join(this.cfg.sandboxesDir, name); }
  stateFile(name: string) { return path.join(this.dir(name), "state.json"); }
  disk(name: string) { return path.join(this.dir(name), "disk.img"); }
  diskMnt(name: string) { return path.join(this.dir(name), "disk"); }
  /**
   * Host-side mounts and bind sources of a running sandbox, outside the (0700) data dir because the
   * runtime resolves them as the sandbox's root: <runDir>/sb/ is 0711, this dir root:<sandbox gid>
   * 0710, so only the sandbox's own root (and host root) can traverse it.
   */
  mountDir(name: string) { return path.join(this.cfg.runDir, "sb", `${this.cfg.tag}-${name}`); }
  rootfs(name: string) { return path.join(this.mountDir(name), "rootfs"); }
  /** Where the idmap helper attaches its transient layer mounts (0700 root). */
  stage(name: string) { return path.join(this.mountDir(name), "stage"); }
  etc(name: string) { return path.join(this.mountDir(name), "etc"); }
  /** Overlay mount point of versions before per-sandbox ranges (unmounted on teardown). */
  legacyRootfs(name: string) { return path.join(this.dir(name), "rootfs"); }
  /** On the sandbox's disk image (mounted while running), invisible inside the sandbox. */
  log(name: string) { return path.join(this.dir(name), "disk", "console.log"); }
  container(name: string) { return `atoll-${this.cfg.tag}-${name}`; }
  netns(name: string) { return `atoll-${this.cfg.tag}-${name}`; }
  cgroupsPath(name: string) { return `/atoll/${this.cfg.tag}-${name}`; }
  /** Host veth: derived from the (host-unique) address, 10 chars. */
  veth(ip: string) { return `at${ipToInt(ip).toString(16).padStart(8, "0")}`; }
  ipOwner(name: string) { return `${this.cfg.tag}/${name}`; }

  /** Maps a public id to its internal name (itself, or a claimed pool entry), or undefined. */
  resolve(id: string): string | undefined {
    if (!isValidSandboxId(id)) return undefined; // never a path outside sandboxes/
    const p = this.dir(id);
    try {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) {
        const target = readlinkSync(p);
        return existsSync(this.dir(target)) ? target : undefined;
      }
      return st.isDirectory() ? id : undefined;
    } catch {
      return undefined;
    }
  }

  read(name: string): SandboxRecord | undefined {
    try {
      return JSON.parse(readFileSync(this.stateFile(name), "utf8")) as SandboxRecord;
    } catch {
      return undefined;
    }
  }

  /** Atomic write (tmp + rename) so a crash never leaves half a state file; 0600 (env secrets, the agent key). */
  write(rec: SandboxRecord): void {
    writePrivateFile(this.stateFile(rec.name), JSON.stringify(rec, null, 1));
  }

  /**
   * write(), or — when the data dir is full — an in-place overwrite of the old file, padded with
   * spaces to its length (JSON allows trailing whitespace): it reuses the file's own blocks, so it
   * needs none from the full disk. Not atomic, so only for a record that got shorter and where a
   * stale one is worse: tearDown, whose address and pid left behind would make the next start
   * take a dead sandbox for a running one.
   */
  writeEvenIfFull(rec: SandboxRecord): void {
    const file = this.stateFile(rec.name);
    try {
      this.write(rec);
      return;
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      rmSync(`${file}.tmp`, { force: true });
    }
    const text = JSON.stringify(rec, null, 1);
    const fd = openSync(file, "r+");
    try {
      const size = fstatSync(fd).size;
      if (Buffer.byteLength(text) > size) throw new Error(`Cannot rewrite ${file} in place: the new record is longer and the disk is full`);
      writeSync(fd, text.padEnd(size - (Buffer.byteLength(text) - text.length), " "), 0);
    } finally {
      closeSync(fd);
    }
  }
}
