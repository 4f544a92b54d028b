// Per-sandbox network namespace: a veth pair from the host bridge, the sandbox's address,
// loopback and a default route via the bridge. Two `ip -batch` calls (host side, netns side).
import { existsSync, writeFileSync } from "node:fs";
import { run } from "./exec.js";

export interface NetSpec {
  netns: string;
  /** Host-side veth name (≤ 15 chars). */
  veth: string;
  ip: string;
  prefix: number;
  gateway: string;
  bridge: string;
}

export const netnsPath = (name: string) => `/run/netns/${name}`;

export async function createNetns(n: NetSpec): Promise<void> {
  await deleteNetns(n.netns, n.veth); // leftovers of a crash
  const peer = `p${n.veth.slice(1)}`;
  await run("ip", ["-batch", "-"], {
    input: [
      `netns add ${n.netns}`,
      `link add ${n.veth} type veth peer name ${peer} netns ${n.netns}`,
      `link set ${n.veth} master ${n.bridge}`,
      // L2 isolation: isolated bridge ports cannot talk to each other, only to the bridge/uplink.
      `link set dev ${n.veth} type bridge_slave isolated on`,
    ].join("\n") + "\n",
  });
  try { writeFileSync(`/proc/sys/net/ipv6/conf/${n.veth}/disable_ipv6`, "1"); } catch { /* no ipv6 */ }
  await run("ip", ["-n", n.netns, "-batch", "-"], {
    input: [
      `link set lo up`,
      `link set ${peer} name eth0`,
      `addr add ${n.ip}/${n.prefix} dev eth0`,
      `link set eth0 up`,
      `route add default via ${n.gateway} dev eth0`,
    ].join("\n") + "\n",
  });
  await run("ip", ["link", "set", n.veth, "up"]);
}

/** Removes the netns (its veth end goes with it) and the host veth if still there. Idempotent. */
export async function deleteNetns(netns: string, veth: string): Promise<void> {
  const cmds: string[] = [];
  if (existsSync(`/sys/class/net/${veth}`)) cmds.push(`link del ${veth}`);
  if (existsSync(netnsPath(netns))) cmds.push(`netns del ${netns}`);
  if (cmds.length) await run("ip", ["-force", "-batch", "-"], { input: cmds.join("\n") + "\n", allowFail: true });
}
