// Socket families outside the network namespace's reach (issue 16: "socket(AF_VSOCK) is
// allowed"). Attacker: code inside a sandbox. Attack: open a socket of a family the network
// namespace does not confine — AF_VSOCK reaches the hypervisor and the VM's own vsock services
// whatever netns the caller is in — or of a rarely used family whose kernel module loads on
// demand (AF_ALG, AF_TIPC, AF_RDS: a history of local privilege escalations). Expected refusal:
// the seccomp filter answers EAFNOSUPPORT for every family except unix, inet, inet6, netlink and
// packet, also when the family number carries high bits and for socketpair(). The probe only
// creates sockets; it never connects anywhere.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAtoll, createSandbox, exec, type Atoll } from "../e2e/harness.js";

const PROBE = String.raw`
import ctypes, errno, json, socket
out = {}
def sock(label, fam, typ):
    try:
        socket.socket(fam, typ).close(); out[label] = "ok"
    except OSError as e:
        out[label] = errno.errorcode.get(e.errno, str(e.errno))
sock("vsock_stream", 40, socket.SOCK_STREAM)
sock("vsock_dgram", 40, socket.SOCK_DGRAM)
sock("vsock_seqpacket", 40, socket.SOCK_SEQPACKET)
sock("alg", 38, socket.SOCK_SEQPACKET)
sock("tipc", 30, socket.SOCK_RDM)
sock("rds", 21, socket.SOCK_SEQPACKET)
sock("bluetooth", 31, socket.SOCK_RAW)
sock("unix", socket.AF_UNIX, socket.SOCK_STREAM)
sock("inet", socket.AF_INET, socket.SOCK_STREAM)
sock("inet6", socket.AF_INET6, socket.SOCK_DGRAM)
sock("netlink", socket.AF_NETLINK, socket.SOCK_RAW)
libc = ctypes.CDLL(None, use_errno=True)
def res(rc):
    return "ok" if rc >= 0 else errno.errorcode.get(ctypes.get_errno())
# raw syscalls, past Python's own checks: socket(2) = 41, socketpair(2) = 53 on x86_64
out["raw_vsock_high_bits"] = res(libc.syscall(41, ctypes.c_long((1 << 32) | 40), 1, 0))
out["raw_socketpair_vsock"] = res(libc.syscall(53, 40, 1, 0, ctypes.byref((ctypes.c_int * 2)())))
out["raw_socketpair_unix"] = res(libc.syscall(53, 1, 1, 0, ctypes.byref((ctypes.c_int * 2)())))
print(json.dumps(out))
`;

let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
  await createSandbox(atoll, "sec-sock", { limits: { memoryMiB: 256, diskMiB: 256 } });
});
after(async () => {
  await atoll?.stop();
});

test("sandbox code cannot open AF_VSOCK (or other non-netns) sockets: EAFNOSUPPORT; unix/inet/inet6/netlink still work", { timeout: 120_000 }, async () => {
  const r = await exec(atoll, "sec-sock", `python3 - <<'EOF'\n${PROBE}\nEOF`);
  assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
  const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
  for (const k of ["vsock_stream", "vsock_dgram", "vsock_seqpacket", "alg", "tipc", "rds", "bluetooth", "raw_vsock_high_bits", "raw_socketpair_vsock"]) {
    assert.equal(got[k], "EAFNOSUPPORT", `${k}: the attack worked or failed for another reason (${JSON.stringify(got)})`);
  }
  for (const k of ["unix", "inet", "inet6", "netlink", "raw_socketpair_unix"]) {
    assert.equal(got[k], "ok", `${k} must keep working (${JSON.stringify(got)})`);
  }
});
