// Shared by the agent's integration-test helpers: bundle the agent once per test process (into a
// temp dir, never dist/), the command that runs it, and a free loopback port.
// The helpers run it with ATOLL_AGENT_AUTH=off (the dev switch in src/auth.ts): they talk to it
// directly on loopback, with no control plane holding a key; auth.test.ts tests the key itself.
// ATOLL_TEST_AGENT_NODE18=1 runs the bundle on the base image's Node 18 (chroot in a private mount
// namespace that shares the host's /tmp).
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
let bundle: Promise<string> | null = null;

export function agentBundle(): Promise<string> {
  bundle ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atoll-agent-bundle-"));
    process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
    const out = path.join(dir, "agent.mjs");
    await build({
      entryPoints: [path.join(repo, "packages/agent/src/main.ts")],
      outfile: out, bundle: true, platform: "node", target: "node18", format: "esm", logLevel: "error",
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    return out;
  })();
  return bundle;
}

export function agentCommand(file: string): string[] {
  if (process.env.ATOLL_TEST_AGENT_NODE18 !== "1") return [process.execPath, file];
  const r = process.env.ATOLL_TEST_ROOTFS ?? "/var/lib/atoll/images/base/current/rootfs";
  if (!file.startsWith("/tmp/")) throw new Error("ATOLL_TEST_AGENT_NODE18 needs the bundle under /tmp");
  const script = `mount --bind /tmp "$0/tmp" && mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/node "$1"`;
  return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, r, file];
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
