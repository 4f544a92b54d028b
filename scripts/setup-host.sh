#!/usr/bin/env bash
# Idempotent host preparation for the oci driver (run as root; safe to run many times).
#  - installs the tools the driver drives (crun runc iptables iproute2 e2fsprogs util-linux, gcc + libc6-dev
#    for its idmapped-mount helper) via apt if missing
#  - on hybrid cgroup v1 hosts, mounts the hugetlb controller at /sys/fs/cgroup/hugetlb (crun refuses otherwise)
#  - enables IPv4 forwarding (sandbox egress through NAT)
# Bridge and firewall chains are created by the driver itself at init (packages/server/src/drivers/oci/host.ts),
# because their names and subnet come from its config.
set -euo pipefail

[[ $EUID -eq 0 ]] || { echo "Cannot prepare the host: must run as root" >&2; exit 1; }
say() { printf '[setup-host] %s\n' "$*"; }

# 1. packages (binary -> Debian package)
declare -A NEED=([crun]=crun [runc]=runc [iptables]=iptables [ip]=iproute2 [bridge]=iproute2
  [mkfs.ext4]=e2fsprogs [losetup]=util-linux [nsenter]=util-linux [mount]=mount [cc]=gcc)
MISSING=()
for bin in "${!NEED[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 || MISSING+=("${NEED[$bin]}")
done
[[ -f /usr/include/stdio.h ]] || MISSING+=(libc6-dev) # with cc: builds the driver's idmapped-mount helper
if ((${#MISSING[@]})); then
  PKGS="$(printf '%s\n' "${MISSING[@]}" | sort -u | xargs)"
  say "installing: $PKGS"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $PKGS >/dev/null
else
  say "packages: ok"
fi

# 2. cgroups: hybrid v1 hosts need hugetlb mounted for crun (once per boot)
if [[ -d /sys/fs/cgroup/memory ]] && grep -qw hugetlb /proc/cgroups; then
  if ! grep -qE '^cgroup /sys/fs/cgroup/hugetlb ' /proc/mounts; then
    mkdir -p /sys/fs/cgroup/hugetlb
    mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
    say "mounted cgroup v1 hugetlb"
  else
    say "cgroup v1 hugetlb: ok"
  fi
else
  say "cgroup v2 (unified): ok"
fi

# 3. sysctls and modules
sysctl -qw net.ipv4.ip_forward=1
if [[ ! -d /proc/sys/net/bridge ]]; then
  (command -v modprobe >/dev/null && modprobe br_netfilter) 2>/dev/null || say "note: br_netfilter unavailable; bridge port isolation still blocks sandbox-to-sandbox traffic"
fi
for m in overlay loop; do
  (command -v modprobe >/dev/null && modprobe "$m") 2>/dev/null || true
done
[[ -e /dev/loop-control ]] || { echo "Cannot prepare the host: no loop device support (/dev/loop-control)" >&2; exit 1; }
mkdir -p /run/atoll/ipam
say "done"
