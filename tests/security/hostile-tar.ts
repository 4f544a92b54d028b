// Builds the hostile tar archive of issue 16 (what a sandbox that controls its archive output can
// hand to `atoll cp`): a world-writable char device (1,3), setuid/setgid-root files, a sticky
// world-writable dir, a FIFO, "../" and absolute paths, a symlink to /etc with a file written
// through it, symlink chains that climb out, hard links to host files — plus a few ordinary entries
// that a safe extractor must keep. Built with tar-stream so every header field is ours to choose.
import tar from "tar-stream";

export interface HostileTarOptions {
  /** An absolute host directory outside the destination (the "../", absolute-path and link targets). */
  outside: string;
  /** An absolute host file the archive tries to hard-link to and overwrite. */
  canary: string;
  /** Unique suffix for names the archive tries to create on the host. */
  tag: string;
}

/** Entries a safe extraction must produce (relative path → content, or "dir" / "symlink:<target>"). */
export const KEPT: Record<string, string> = {
  "ok.txt": "ok\n",
  "sub/ok2.txt": "ok2\n",
  "sub/link": "symlink:../ok.txt",
  "ok-hard": "ok\n",
  "suid-root": "#!/bin/sh\nid\n", // kept as a file, without its setuid bit
};

/** An entry name with a newline and escape sequences: warnings must print it escaped. */
export const FORGED_NAME = "forged\nall entries extracted, no warnings\u001b[2K\u001b[1A";

export function buildHostileTar(o: HostileTarOptions): Promise<Buffer> {
  const pack = tar.pack();
  const root = { uid: 0, gid: 0, mtime: new Date(0) };
  const add = (h: tar.Headers, body?: string) => pack.entry({ ...root, ...h }, body);
  add({ name: "ok.txt", mode: 0o644 }, "ok\n");
  add({ name: "sub", type: "directory", mode: 0o755 });
  add({ name: "sub/ok2.txt", mode: 0o644, uid: 4242, gid: 4242 }, "ok2\n");
  add({ name: "sub/link", type: "symlink", linkname: "../ok.txt" });
  add({ name: "ok-hard", type: "link", linkname: "ok.txt" });
  // the original attack: a world-writable /dev/mem-class device and setuid-root binaries
  add({ name: "dev-mem", type: "character-device", mode: 0o666, devmajor: 1, devminor: 3 } as tar.Headers);
  add({ name: "blk", type: "block-device", mode: 0o666, devmajor: 7, devminor: 0 } as tar.Headers);
  add({ name: "suid-root", mode: 0o4755 }, "#!/bin/sh\nid\n");
  add({ name: "sgid-root", mode: 0o2755 }, "#!/bin/sh\nid\n");
  add({ name: "sticky", type: "directory", mode: 0o1777 });
  add({ name: "fifo", type: "fifo", mode: 0o666 });
  // a name that tries to forge terminal output in the warning lines
  add({ name: FORGED_NAME, type: "fifo", mode: 0o666 });
  // path escapes
  add({ name: `../escape-${o.tag}`, mode: 0o644 }, "escaped\n");
  add({ name: `sub/../../escape2-${o.tag}`, mode: 0o644 }, "escaped\n");
  add({ name: `${o.outside}/abs-${o.tag}`, mode: 0o644 }, "escaped\n");
  // a symlink to a host directory, then a file written through it
  add({ name: "etc", type: "symlink", linkname: "/etc" });
  add({ name: `etc/atoll-pwned-${o.tag}`, mode: 0o644 }, "pwned\n");
  add({ name: "out", type: "symlink", linkname: o.outside });
  add({ name: `out/through-${o.tag}`, mode: 0o644 }, "pwned\n");
  add({ name: "up", type: "symlink", linkname: "../../../../../../../../etc" });
  // a chain that looks inside to a lexical check: x/l1 -> . ; x/l2 -> l1/../.. (really dest/..)
  add({ name: "x", type: "directory", mode: 0o755 });
  add({ name: "x/l1", type: "symlink", linkname: "." });
  add({ name: "x/l2", type: "symlink", linkname: "l1/../.." });
  add({ name: `x/l2/chain-${o.tag}`, mode: 0o644 }, "pwned\n");
  // hard links to a host file (absolute, and climbing out), then content written at those names
  add({ name: "canary-abs", type: "link", linkname: o.canary });
  add({ name: "canary-abs", mode: 0o644 }, "pwned\n");
  add({ name: "canary-up", type: "link", linkname: `../../../../../../../..${o.canary}` });
  // a hard link through the planted symlink
  add({ name: "passwd-hard", type: "link", linkname: "etc/passwd" });
  pack.finalize();
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    pack.on("data", (c: Buffer) => parts.push(c));
    pack.on("end", () => resolve(Buffer.concat(parts)));
    pack.on("error", reject);
  });
}
