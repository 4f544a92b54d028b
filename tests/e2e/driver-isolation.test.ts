// oci driver isolation against real sandboxes: host files, host processes, host ports, other
// sandboxes' ports/files/processes, and root inside being an unprivileged uid outside.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { canConnect, disposeDriver, newDriver, sh, spec } from "./driver-helpers.js";
import type { OciDriver } from "../../packages/server/src/drivers/oci/index.js";

/** Inside a sandbox: exit 0 if a TCP connect to host:port succeeds within 2 s (bash /dev/tcp). */
const probe = (host: string, port: number) => `timeout 2 bash -c 'echo > /dev/tcp/${host}/${port}' 2>/dev/null && echo OPEN || echo CLOSED`;

describe("oci driver isolation", () => {
  let d: OciDriver;
  let a: { host: string };
  let b: { host: string };
  const marker = `atoll-marker-${randomBytes(6).toString("hex")}`;
  const markerFile = `${os.tmpdir()}/${marker}`;
  let hostServer: net.Server;
  let hostPort = 0;
  let hostProc: ChildProcess;

  before(async () => {
    d = newDriver();
    await d.init();
    [a, b] = (await Promise.all([d.start(spec("iso-a")), d.start(spec("iso-b"))])).map((s) => s.endpoint!);
    writeFileSync(markerFile, "host secret\n");
    hostServer = net.createServer((s) => { s.on("error", () => {}); s.end("host\n"); });
    await new Promise<void>((r) => hostServer.listen(0, "0.0.0.0", r));
    hostPort = (hostServer.address() as net.AddressInfo).port;
    hostProc = spawn("sh", ["-c", `sleep 120; : ${marker}`], { stdio: "ignore" });
  });
  after(async () => {
    hostProc.kill("SIGKILL");
    hostServer.close();
    rmSync(markerFile, { force: true });
    await disposeDriver(d);
  });

  test("cannot read a marker file placed on the host", async () => {
    const r = await sh(d, "iso-a", `cat ${markerFile}`);
    assert.notEqual(r.code, 0, `cat of the host path succeeded: ${JSON.stringify(r)}`);
    assert.ok(!r.out.includes("host secret"));
    const ls = await sh(d, "iso-a", `ls -a ${os.tmpdir()}`);
    assert.ok(!ls.out.includes(marker), ls.out);
  });

  test("cannot see host processes", async () => {
    const r = await sh(d, "iso-a", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '; echo; ls -d /proc/[0-9]* | wc -l");
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes(marker), "host process visible inside");
    assert.ok(Number(r.out.trim().split("\n").pop()) < 20, `few processes inside: ${r.out}`);
    const init = await sh(d, "iso-a", "cat /proc/1/cmdline | tr '\\0' ' '");
    assert.match(init.out, /tini/);
  });

  test("cannot connect to host ports (bridge address, host address, its own loopback)", async () => {
    assert.equal(await canConnect("127.0.0.1", hostPort), true, "control: host port is open");
    const hostAddrs = Object.values(os.networkInterfaces()).flat().filter((i) => i && i.family === "IPv4" && !i.internal).map((i) => i!.address);
    for (const h of new Set(["10.203.0.1", ...hostAddrs])) {
      const r = await sh(d, "iso-a", probe(h, hostPort));
      assert.equal(r.out.trim(), "CLOSED", `host ${h}:${hostPort} reachable from a sandbox`);
    }
    const lo = await sh(d, "iso-a", probe("127.0.0.1", hostPort));
    assert.equal(lo.out.trim(), "CLOSED");
  });

  test("cannot connect to another sandbox's port; the host can", async () => {
    await sh(d, "iso-b", "cd /tmp && (python3 -m http.server 8080 >/dev/null 2>&1 &)");
    const end = Date.now() + 10_000;
    while (!(await canConnect(b.host, 8080, 200)) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await canConnect(b.host, 8080), true, "control: host reaches sandbox b's server");
    const self = await sh(d, "iso-b", probe("127.0.0.1", 8080));
    assert.equal(self.out.trim(), "OPEN", "control: the probe works inside");
    const r = await sh(d, "iso-a", probe(b.host, 8080));
    assert.equal(r.out.trim(), "CLOSED", "sandbox a reached sandbox b");
    const agent = await sh(d, "iso-a", probe(b.host, 3000));
    assert.equal(agent.out.trim(), "CLOSED", "sandbox a reached sandbox b's agent");
  });

  test("two sandboxes see neither each other's files nor processes", async () => {
    await sh(d, "iso-a", `echo a-only > /workspace/${marker}; (exec -a ${marker}-proc sleep 60 &)`);
    const r = await sh(d, "iso-b", `ls /workspace; cat /proc/[0-9]*/cmdline | tr '\\0' ' '`);
    assert.ok(!r.out.includes(marker), r.out);
    const own = await sh(d, "iso-a", `cat /workspace/${marker}`);
    assert.equal(own.out, "a-only\n", "control");
  });

  test("root inside is an unprivileged uid outside", async () => {
    const m = await sh(d, "iso-a", "id -u; cat /proc/self/uid_map");
    const rootUid = d.resources("iso-a").rootUid!;
    assert.ok(rootUid >= 2 ** 30, "a per-sandbox range, not the storage range");
    assert.match(m.out, new RegExp(`^0\\n\\s*0\\s+${rootUid}\\s+65536\\n$`));
    // host root's files (the agent bundle) are not root's inside: unmapped ids show as nobody
    const own = await sh(d, "iso-a", "stat -c %u:%g /opt/atoll/agent/agent.mjs");
    assert.equal(own.out, "65534:65534\n");
    const pid = (await d.inspect("iso-a")).pid!;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    assert.match(status, new RegExp(`^Uid:\\s+${rootUid}\\s`, "m"), "init runs as the sandbox's root uid on the host");
    // privileged operations fail: mount, new namespaces (seccomp), raw kernel interfaces
    const denied = await sh(d, "iso-a", [
      "mount -t tmpfs t /mnt 2>/dev/null && echo MOUNT_OK",
      "unshare -U true 2>/dev/null && echo UNSHARE_OK",
      "{ echo 1 > /proc/sys/kernel/sysrq; } 2>/dev/null && echo SYSCTL_OK",
      "head -c1 /proc/kcore 2>/dev/null | wc -c | grep -q '^1$' && echo KCORE_OK",
      "touch /opt/atoll/agent/x 2>/dev/null && echo AGENTDIR_OK",
      "grep -q . /proc/keys 2>/dev/null && echo KEYS_OK",
      "echo done",
    ].join("; "));
    assert.equal(denied.out, "done\n", denied.out);
    const caps = await sh(d, "iso-a", "grep CapEff /proc/self/status");
    const eff = BigInt(`0x${caps.out.trim().split(/\s+/)[1]}`);
    assert.equal(eff & (1n << 21n), 0n, "no CAP_SYS_ADMIN");
    assert.equal(eff & (1n << 12n), 0n, "no CAP_NET_ADMIN");
    assert.equal(eff & (1n << 13n), 0n, "no CAP_NET_RAW");
  });

  test("no packet sockets (no ARP/frame spoofing); ICMP echo sockets work; host neighbour entry is permanent", async () => {
    const raw = await sh(d, "iso-a", `python3 -c "import socket; socket.socket(socket.AF_PACKET, socket.SOCK_RAW)" 2>&1 | tail -1`);
    assert.match(raw.out, /PermissionError|Operation not permitted/);
    const icmp = await sh(d, "iso-a", `python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP); print('icmp-ok')"`);
    assert.equal(icmp.out, "icmp-ok\n");
    // Another sandbox joining and leaving the bridge must not flush this one's pinned entry
    // (a bridge whose MAC follows its ports would: the kernel flushes on every MAC change).
    assert.equal(readFileSync("/sys/class/net/atoll0/addr_assign_type", "utf8").trim(), "3", "bridge MAC is fixed");
    await d.start(spec("iso-tmp"));
    await d.destroy("iso-tmp");
    const neigh = execFileSync("ip", ["neigh", "show", a.host, "dev", "atoll0"], { encoding: "utf8" });
    assert.match(neigh, /lladdr 02:42:[0-9a-f:]+ PERMANENT/);
  });

  test("own sysfs: only its own network interfaces are visible", async () => {
    const r = await sh(d, "iso-a", "ls /sys/class/net");
    assert.deepEqual(r.out.trim().split(/\s+/).sort(), ["eth0", "lo"]);
  });

  test("firewall chains, NAT and bridge port isolation are in place", () => {
    const input = execFileSync("iptables", ["-w", "-S", "ATOLL-INPUT"], { encoding: "utf8" });
    assert.match(input, /-A ATOLL-INPUT -i atoll0 -j DROP/);
    const fwd = execFileSync("iptables", ["-w", "-S", "ATOLL-FORWARD"], { encoding: "utf8" });
    assert.match(fwd, /-A ATOLL-FORWARD -i atoll0 -o atoll0 -j DROP/);
    const nat = execFileSync("iptables", ["-w", "-t", "nat", "-S", "ATOLL-POSTROUTING"], { encoding: "utf8" });
    assert.match(nat, /-s 10\.203\.0\.0\/16 ! -o atoll0 -j MASQUERADE/);
    const veth = d.resources("iso-a").veth!;
    const link = execFileSync("bridge", ["-d", "link", "show", "dev", veth], { encoding: "utf8" });
    assert.match(link, /isolated on/);
    const resolv = readFileSync(`${d.resources("iso-a").etc}/resolv.conf`, "utf8");
    assert.match(resolv, /^nameserver \d/m);
  });
});
