// oci driver pieces without a host: address allocator, subnet/MAC maths, OCI spec and seccomp shape.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Ipam, intToIp, ipToInt, parseSubnet } from "../src/drivers/oci/ipam.js";
import { macFor } from "../src/drivers/oci/netns.js";
import { buildSpec, CAPS } from "../src/drivers/oci/spec.js";
import { seccompProfile } from "../src/drivers/oci/seccomp.js";

test("parseSubnet: network, gateway, size; bad input refused", () => {
  const s = parseSubnet("10.203.7.9/16");
  assert.equal(intToIp(s.network), "10.203.0.0");
  assert.equal(s.gateway, "10.203.0.1");
  assert.equal(s.size, 65536);
  assert.throws(() => parseSubnet("10.203.0.0/33"));
  assert.throws(() => parseSubnet("10.999.0.0/16"));
  assert.equal(intToIp(ipToInt("255.1.2.3")), "255.1.2.3");
});

test("Ipam: two allocators on one dir never hand out the same address; release frees it", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-ipam-"));
  try {
    const sn = parseSubnet("10.250.0.0/28"); // 13 usable addresses
    const a = new Ipam(dir, "br", sn);
    const b = new Ipam(dir, "br", sn);
    const got = new Set<string>();
    for (let i = 0; i < 13; i++) got.add((i % 2 ? a : b).allocate(`t/${i}`));
    assert.equal(got.size, 13);
    assert.ok(![...got].includes("10.250.0.0") && ![...got].includes("10.250.0.1") && ![...got].includes("10.250.0.15"));
    assert.throws(() => a.allocate("t/x"), /subnet .* is full/);
    const first = [...got][0]!;
    const owner = b.heldBy("t/").find((h) => h.ip === first)!.owner;
    a.release(first, "someone-else"); // not the owner: kept
    assert.throws(() => a.allocate("t/y"));
    a.release(first, owner);
    assert.equal(b.allocate("t/z"), first);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("macFor derives a locally administered MAC from the address", () => {
  assert.equal(macFor("10.203.0.2"), "02:42:0a:cb:00:02");
});

test("buildSpec: userns mapping, limits, no swap, rlimits at most the host's, hardening on", () => {
  const spec = buildSpec({
    rootfs: "/r", hostname: "sandbox", cgroupsPath: "/atoll/x", uidBase: 100000, uidCount: 65536,
    limits: { cpu: 0.5, memoryMiB: 256, pids: 64, diskMiB: 100 }, env: { A: "1", ATOLL_AGENT_KEY_SHA256: "mine" }, agentDir: "/agent",
    etc: { resolv: "/e/r", hosts: "/e/h", hostname: "/e/n" }, startup: "echo hi", agentKeyVerifier: "ab".repeat(32),
  }) as any;
  // the driver's verifier wins over a user env var of the same name
  assert.deepEqual(spec.process.env.filter((e: string) => e.startsWith("ATOLL_AGENT_KEY_SHA256=")), [`ATOLL_AGENT_KEY_SHA256=${"ab".repeat(32)}`]);
  assert.deepEqual(spec.linux.uidMappings, [{ containerID: 0, hostID: 100000, size: 65536 }]);
  assert.equal(spec.linux.resources.memory.limit, 256 * 2 ** 20);
  assert.equal(spec.linux.resources.memory.swap, 256 * 2 ** 20);
  assert.equal(spec.linux.resources.pids.limit, 64);
  assert.deepEqual(spec.linux.resources.cpu, { quota: 50000, period: 100000 });
  assert.equal(spec.process.noNewPrivileges, true);
  assert.ok(spec.process.env.includes("A=1") && spec.process.env.includes("ATOLL_STARTUP=echo hi"));
  const nofile = spec.process.rlimits.find((r: any) => r.type === "RLIMIT_NOFILE");
  assert.ok(nofile.hard <= 20000 && nofile.soft <= nofile.hard);
  for (const cap of ["CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_PTRACE", "CAP_SYS_MODULE"]) assert.ok(!CAPS.includes(cap), cap);
  assert.ok(spec.linux.maskedPaths.includes("/proc/kcore"));
  assert.ok(spec.linux.readonlyPaths.includes("/proc/sys"));
  assert.ok(spec.linux.namespaces.some((n: any) => n.type === "user"));
  assert.ok(spec.mounts.some((m: any) => m.destination === "/opt/atoll/agent" && m.options.includes("ro")));
  assert.deepEqual(spec.process.args.slice(0, 2), ["/usr/bin/tini", "-s"]);
});

test("seccomp: default allow, dangerous calls denied, namespace flags on clone denied", () => {
  const p = seccompProfile() as any;
  assert.equal(p.defaultAction, "SCMP_ACT_ALLOW");
  const denied = p.syscalls.flatMap((r: any) => (r.args ? [] : r.names));
  for (const s of ["mount", "unshare", "setns", "bpf", "kexec_load", "keyctl", "init_module", "perf_event_open", "open_by_handle_at", "clone3", "io_uring_setup"]) {
    assert.ok(denied.includes(s), s);
  }
  const cloneRules = p.syscalls.filter((r: any) => r.names.includes("clone") && r.args);
  assert.ok(cloneRules.some((r: any) => r.args[0].value === 0x10000000), "CLONE_NEWUSER");
});
