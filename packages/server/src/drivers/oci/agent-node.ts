// Picks the Node binary that runs the agent: the host's own node (bind-mounted read-only) when the
// sandbox image provides every shared library it links against, else the image's `node`.
import { existsSync } from "node:fs";
import path from "node:path";
import { run } from "./exec.js";

const LIB_DIRS = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu", "lib64", "lib", "usr/lib"];

/** Returns the host node path usable inside `rootfs`, or undefined. */
export async function pickAgentNode(setting: string | false | undefined, rootfs: string): Promise<string | undefined> {
  if (setting === false) return undefined;
  const bin = setting ?? process.execPath;
  if (!existsSync(bin)) return undefined;
  const r = await run("ldd", [bin], { allowFail: true });
  if (r.code !== 0) return undefined; // static or not an ELF we understand: be safe
  for (const line of r.stdout.split("\n")) {
    const m = line.trim().match(/^(\S+\.so[.\d]*)\s/);
    if (!m || m[1]!.startsWith("linux-vdso")) continue;
    const lib = path.basename(m[1]!);
    if (!LIB_DIRS.some((d) => existsSync(path.join(rootfs, d, lib)))) return undefined;
  }
  return bin;
}
