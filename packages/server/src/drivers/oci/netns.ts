// Per-sandbox network namespace: a veth pair from the host bridge, the sandbox's address,
// loopback and a default route via the bridge. Two `ip -batch` calls (host side, netns side).
// The namespace itself is created by the runtime inside the sandbox's user namespace (so the
// sandbox gets its own sysfs, as with Docker) and named here with `ip netns attach <name> <pid>`.
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

export function macFor(ip: string): string {
  return ["02", "42", ...ip.split(".").map((x) => Number(x).toString(16).padStart(2, "0"))].join(":");
}

export const netnsPath = (name: string) => `/run/netns/${name}`;

/** Wires the network namespace of process `pid` (the container's init) to the bridge. */
export async function createNetns(n: NetSpec, pid: number): Promise<void> {
  await deleteNetns(n.netns, n.veth, n.ip, n.bridge); // leftovers of a crash
  const peer = `p${n.veth.slice(1)}`;
  await run("ip", ["-batch", "-"], {
    input: [
      `netns attach ${n.netns} ${pid}`,
      `link add ${n.veth} type veth peer name ${peer} netns ${n.netns}`,
      `link set ${n.veth} master ${n.bridge}`,
      // L2 isolation: isolated bridge ports cannot talk to each other, only to the bridge/uplink.
      `link set dev ${n.veth} type bridge_slave isolated on`,
      `link set ${n.veth} up`,
      // The host's neighbour entry for the sandbox is permanent: nothing a sandbox sends can
      // redirect the host's traffic for another sandbox's address (ARP spoofing).
      `neigh replace ${n.ip} lladdr ${macFor(n.ip)} dev ${n.bridge} nud permanent`,
    ].join("\n") + "\n",
  });
  try { writeFileSync(`/proc/sys/net/ipv6/conf/${n.veth}/disable_ipv6`, "1"); } catch { /* no ipv6 */ }
  await Promise.all([
    run("ip", ["-n", n.netns, "-batch", "-"], {
      input: [
        `link set lo up`,
        // MAC derived from the address (as Docker does): matches the host's permanent entry.
        `link set ${peer} address ${macFor(n.ip)}`,
        `link set ${peer} name eth0`,
        `addr add ${n.ip}/${n.prefix} dev eth0`,
        `link set eth0 up`,
        `route add default via ${n.gateway} dev eth0`,
      ].join("\n") + "\n",
    }),
    // Sandboxes have no CAP_NET_RAW; unprivileged ICMP echo sockets keep `ping` working.
    run("nsenter", [`--net=${netnsPath(n.netns)}`, "--", "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647"], { allowFail: true }),
  ]);
}

/** Removes the netns (its veth end goes with it), the host veth and neighbour entry. Idempotent. */
export async function deleteNetns(netns: string, veth: string, ip?: string, bridge?: string): Promise<void> {
  const cmds: string[] = [];
  if (existsSync(`/sys/class/net/${veth}`)) cmds.push(`link del ${veth}`);
  if (existsSync(netnsPath(netns))) cmds.push(`netns del ${netns}`); // also removes a stale plain file
  if (ip && bridge) cmds.push(`neigh del ${ip} dev ${bridge}`);
  if (cmds.length) await run("ip", ["-force", "-batch", "-"], { input: cmds.join("\n") + "\n", allowFail: true });
}
