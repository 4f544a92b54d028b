// Owner-only (root-only) files and directories. The data dir holds sandbox files, env vars that are
// often API keys (state files, the runtime config, the db), the API key itself, snapshots and
// templates: no other host user may list, read or traverse any of it. Directories are 0700 and
// files 0600, also when they already existed with looser modes (data dirs made by older versions
// were 0755 with 0644 files): they are tightened whenever they are (re)created or rewritten.
import { chmodSync, closeSync, fchmodSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";

/** Creates dir (and missing parents) if needed and makes dir itself 0700. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** Writes file atomically (tmp + rename, so a crash never leaves half a file) with mode 0600. */
export function writePrivateFile(file: string, data: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    fchmodSync(fd, 0o600); // a tmp file left by a crash keeps its old mode on open
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
