// Host preparation, idempotent and safe to run from several control planes at once:
// cgroup v1 hugetlb mount (crun needs it on hybrid hosts), IPv4 forwarding, the bridge,
// the firewall chains that isolate sandboxes from the host and from each other, and the
// control plane's group: only processes holding that group (effective or supplementary) may open
// connections to sandbox addresses
// (ATOLL-OUTPUT; docs/security.md "Agent access" says why a group and not a uid or cgroup).
import { existsSync, mkdirSync, readFileSync, writeFileSync, openSync, closeSync, unlinkSync } from "node:fs";
import path from "node:path";
import { run } from "./exec.js";
import type { ResolvedConfig } from "./config.js";
import { intToIp, parseSubnet } from "./ipam.js";
import { macFor } from "./netns.js";

/** Chain names; suffixed for non-default bridges so two bridges never share chains. */
export function chains(bridge: string) {
  const sfx = bridge === "atoll0" ? "" : `-${bridge}`.slice(0, 12);
  return {
    input: `ATOLL-INPUT${sfx}`,
    output: `ATOLL-OUTPUT${sfx}`,
    forward: `ATOLL-FORWARD${sfx}`,
    egress: `ATOLL-EGRESS${sfx}`,
    nat: `ATOLL-POSTROUTING${sfx}`,
  };
}

/** Nameservers from the host's resolv.conf, split into usable ones and loopback ones. */
export function hostNameservers(): { usable: string[]; loopback: string[] } {
  let text = "";
  try { text = readFileSync("/etc/resolv.conf", "utf8"); } catch { /* none */ }
  const all = [...text.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!);
  return { usable: all.filter((a) => !a.startsWith("127.")), loopback: all.filter((a) => a.startsWith("127.")) };
}

/** A cross-process lock (O_EXCL file holding our pid; stale locks of dead pids are broken). */
async function withHostLock<T>(runDir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, "host.lock");
  for (let i = 0; ; i++) {
    try {
      const fd = openSync(file, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(file, "utf8") || 0);
      let alive = pid > 0;
      try { if (alive) process.kill(pid, 0); } catch { alive = false; }
      if (!alive || i > 600) { try { unlinkSync(file); } catch { /* raced */ } continue; }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    try { unlinkSync(file); } catch { /* gone */ }
  }
}

async function ensureHugetlb(): Promise<void> {
  // Hybrid cgroup v1 host: crun refuses to run until hugetlb is mounted as a v1 hierarchy.
  if (!existsSync("/sys/fs/cgroup/memory")) return; // pure v2
  const cgroups = readFileSync("/proc/cgroups", "utf8");
  if (!/^hugetlb\s/m.test(cgroups)) return;
  if (/^\S+ \/sys\/fs\/cgroup\/hugetlb cgroup /m.test(readFileSync("/proc/mounts", "utf8"))) return;
  mkdirSync("/sys/fs/cgroup/hugetlb", { recursive: true });
  await run("mount", ["-t", "cgroup", "-o", "hugetlb", "cgroup", "/sys/fs/cgroup/hugetlb"], { allowFail: true });
}

async function ensureBridge(cfg: ResolvedConfig): Promise<void> {
  const sn = parseSubnet(cfg.subnet);
  const br = cfg.bridge;
  const exists = existsSync(`/sys/class/net/${br}`);
  if (!exists) await run("ip", ["link", "add", br, "type", "bridge"], { allowFail: true });
  // A fixed MAC: a bridge without one takes its lowest port's MAC, and every such change
  // (a sandbox's veth joining or leaving) makes the kernel flush ALL neighbour entries on the
  // bridge, the permanent per-sandbox ones included (neigh_changeaddr).
  const mac = macFor(sn.gateway);
  if (readFileSync(`/sys/class/net/${br}/address`, "utf8").trim() !== mac || readFileSync(`/sys/class/net/${br}/addr_assign_type`, "utf8").trim() !== "3") {
    await run("ip", ["link", "set", br, "address", mac]);
  }
  // No IPv6 on the bridge: a sandbox must not reach the host over link-local addresses.
  try { writeFileSync(`/proc/sys/net/ipv6/conf/${br}/disable_ipv6`, "1"); } catch { /* no ipv6 */ }
  const addr = `${sn.gateway}/${sn.prefix}`;
  const cur = await run("ip", ["-4", "-o", "addr", "show", "dev", br]);
  if (!cur.stdout.includes(` ${addr} `)) await run("ip", ["addr", "add", addr, "dev", br], { allowFail: true });
  await run("ip", ["link", "set", br, "up"]);
}

/** The gid of `name`, creating it as a system group when missing (idempotent, race-tolerant). */
export async function ensureGroup(name: string): Promise<number> {
  const lookup = async () => {
    const r = await run("getent", ["group", name], { allowFail: true });
    const gid = Number(r.stdout.split(":")[2]);
    return r.code === 0 && Number.isInteger(gid) ? gid : undefined;
  };
  const have = await lookup();
  if (have !== undefined) return have;
  await run("groupadd", ["--system", name], { allowFail: true }); // another process may have won the race
  const gid = await lookup();
  if (gid === undefined) throw new Error(`Cannot create host group ${name} (groupadd --system ${name})`);
  return gid;
}

async function ensureFirewall(cfg: ResolvedConfig, gid: number): Promise<void> {
  const br = cfg.bridge;
  const c = chains(br);
  const sn = parseSubnet(cfg.subnet);
  const cidr = `${intToIp(sn.network)}/${sn.prefix}`;
  const dns = hostNameservers().usable;
  const filter = [
    "*filter",
    `:${c.input} - [0:0]`,
    `:${c.output} - [0:0]`,
    `:${c.forward} - [0:0]`,
    // host -> sandbox: only the control plane's group opens connections (agent, preview proxy, probes);
    // any other host process, a browser or another user included, is refused at connect()
    `-A ${c.output} -o ${br} -m conntrack --ctstate NEW -m owner ! --gid-owner ${gid} --suppl-groups -j REJECT --reject-with icmp-admin-prohibited`,
    // sandbox -> host: only replies to connections the host opened (the control plane talking to agents)
    `-A ${c.input} -i ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${c.input} -i ${br} -j DROP`,
    // sandbox -> sandbox (routed): never
    `-A ${c.forward} -i ${br} -o ${br} -j DROP`,
    // world -> sandbox: only replies
    `-A ${c.forward} -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    `-A ${c.forward} -o ${br} -j DROP`,
    // sandbox -> world: per-sandbox policy first (egress=false), then DNS, then private ranges, then allow
    `-A ${c.forward} -i ${br} -j ${c.egress}`,
    ...dns.flatMap((d) => ["udp", "tcp"].map((p) => `-A ${c.forward} -i ${br} -d ${d}/32 -p ${p} --dport 53 -j ACCEPT`)),
    ...(cfg.blockPrivateEgress
      ? ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "224.0.0.0/4"].map(
          (r) => `-A ${c.forward} -i ${br} -d ${r} -j DROP`,
        )
      : []),
    `-A ${c.forward} -i ${br} -j ACCEPT`,
    "COMMIT",
    "*nat",
    `:${c.nat} - [0:0]`,
    `-A ${c.nat} -s ${cidr} ! -o ${br} -j MASQUERADE`,
    "COMMIT",
    "",
  ].join("\n");
  // The per-sandbox egress chain keeps its rules across inits: create it only if missing.
  await run("iptables", ["-w", "-N", c.egress], { allowFail: true });
  await run("iptables-restore", ["-w", "--noflush"], { input: filter });
  const jumps: [string, string, string][] = [
    ["filter", "INPUT", c.input],
    ["filter", "OUTPUT", c.output],
    ["filter", "FORWARD", c.forward],
    ["nat", "POSTROUTING", c.nat],
  ];
  for (const [table, from, to] of jumps) {
    const has = await run("iptables", ["-w", "-t", table, "-C", from, "-j", to], { allowFail: true });
    if (has.code !== 0) await run("iptables", ["-w", "-t", table, "-I", from, "1", "-j", to]);
  }
  // IPv6: nothing from the bridge reaches the host.
  const has6 = await run("ip6tables", ["-w", "-C", "INPUT", "-i", br, "-j", "DROP"], { allowFail: true });
  if (has6.code === 1) await run("ip6tables", ["-w", "-I", "INPUT", "1", "-i", br, "-j", "DROP"], { allowFail: true });
}

/**
 * Prepares everything host-global. Safe to call concurrently from several processes. Returns the
 * gid of the control plane's group, which the caller must take (process.setgroups) before it
 * opens any connection to a sandbox.
 */
export async function ensureHost(cfg: ResolvedConfig): Promise<number> {
  return withHostLock(cfg.runDir, async () => {
    await ensureHugetlb();
    writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
    const gid = await ensureGroup(cfg.group);
    await ensureBridge(cfg);
    await ensureFirewall(cfg, gid);
    return gid;
  });
}

/** Adds/removes the per-sandbox "no egress" rule. */
export async function setEgress(cfg: ResolvedConfig, ip: string, allowed: boolean): Promise<void> {
  const c = chains(cfg.bridge);
  const rule = ["-s", `${ip}/32`, "-j", "DROP"];
  const has = (await run("iptables", ["-w", "-C", c.egress, ...rule], { allowFail: true })).code === 0;
  if (!allowed && !has) await run("iptables", ["-w", "-A", c.egress, ...rule]);
  if (allowed && has) await run("iptables", ["-w", "-D", c.egress, ...rule], { allowFail: true });
}
