// Seccomp filter: default allow with a deny list, in the spirit of Docker's default profile.
// Namespaces, mounts, kernel modules, kexec, bpf, keyrings, perf, clock/time setting, swap,
// reboot, handle-based opens and io_uring are refused; clone() with namespace flags is refused
// (so root inside cannot build nested user namespaces); clone3 answers ENOSYS so libc falls
// back to clone(), whose flags seccomp can inspect. socket()/socketpair() are limited to the
// address families a sandbox needs (unix, inet, inet6, netlink, packet); every other family answers
// EAFNOSUPPORT, as on a kernel built without it: AF_VSOCK talks to the hypervisor past the network
// namespace, and the rarely used families are module-autoload attack surface. (On 32-bit x86
// libseccomp adds the matching socketcall(2) rules itself; a rule of our own for it collides.)
// See docs/oci-driver.md for the reasoning.

const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;

const DENY = [
  "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
  "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "init_module",
  "ioperm", "iopl", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount",
  "mount_setattr", "move_mount", "name_to_handle_at", "nfsservctl", "open_by_handle_at",
  "open_tree", "perf_event_open", "pivot_root", "quotactl", "quotactl_fd", "reboot",
  "request_key", "setns", "settimeofday", "stime", "swapoff", "swapon", "_sysctl", "sysfs",
  "umount", "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
  "process_vm_readv", "process_vm_writev", "kcmp", "fanotify_init", "lsm_set_self_attr",
];

// Syscalls some runtimes probe and handle "not implemented" gracefully.
const ENOSYS_LIST = ["clone3", "io_uring_setup", "io_uring_enter", "io_uring_register"];

// CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWTIME
const NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080];

// Address families socket()/socketpair() may use: AF_UNIX 1, AF_INET 2, AF_INET6 10, AF_NETLINK 16,
// AF_PACKET 17 (still needs CAP_NET_RAW, which sandboxes lack). Everything else is refused, by
// equality below 18 and by one "≥ 18" rule above (which also catches values with high bits set).
const ALLOWED_FAMILIES = [1, 2, 10, 16, 17];
const FIRST_DENIED_RANGE = 18;
const DENIED_FAMILIES = Array.from({ length: FIRST_DENIED_RANGE }, (_, f) => f).filter((f) => !ALLOWED_FAMILIES.includes(f));

function socketRules(): Record<string, unknown>[] {
  const deny = (op: string, value: number) => ({
    names: ["socket", "socketpair"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: EAFNOSUPPORT,
    args: [{ index: 0, value, valueTwo: 0, op }],
  });
  return [
    ...DENIED_FAMILIES.map((f) => deny("SCMP_CMP_EQ", f)),
    deny("SCMP_CMP_GE", FIRST_DENIED_RANGE),
  ];
}

export function seccompProfile(): Record<string, unknown> {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
    syscalls: [
      { names: DENY, action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      { names: ENOSYS_LIST, action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS },
      // clone(flags, ...) on x86_64: flags is argument 0. One rule per namespace flag.
      ...NS_FLAGS.map((f) => ({
        names: ["clone"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: EPERM,
        args: [{ index: 0, value: f, valueTwo: f, op: "SCMP_CMP_MASKED_EQ" }],
      })),
      ...socketRules(),
    ],
  };
}
