#!/usr/bin/env bash
# Builds the base sandbox rootfs: Debian bookworm minbase + packages.txt + Bun.
# Cached by a hash of this recipe: rebuilds only when build.sh, packages.txt or BUN_VERSION change.
# Output: $ATOLL_DATA_DIR/images/base/<hash>/rootfs, and images/base/current -> <hash>.
# Usage: images/base/build.sh [--force]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="${ATOLL_DATA_DIR:-/var/lib/atoll}"
BUN_VERSION="1.4.5"
SUITE="bookworm"

step() { printf '\n[image %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

HASH="$( (cat "$HERE/build.sh" "$HERE/packages.txt"; echo "$BUN_VERSION") | sha256sum | cut -c1-16)"
OUT="$DATA/images/base/$HASH"
if [[ "${1:-}" != "--force" && -f "$OUT/.complete" ]]; then
  ln -sfn "$HASH" "$DATA/images/base/current"
  echo "base image $HASH is up to date: $OUT/rootfs"
  exit 0
fi

[[ $EUID -eq 0 ]] || { echo "Cannot build the base image: must run as root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "Cannot build the base image: debootstrap is not installed" >&2; exit 1; }

# The Debian mirror is whatever this host's apt already uses (no host name is hard-coded).
MIRROR="${ATOLL_DEBIAN_MIRROR:-}"
if [[ -z "$MIRROR" ]]; then
  MIRROR="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)"
fi
if [[ -z "$MIRROR" ]]; then
  MIRROR="$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1 || true)"
fi
[[ -n "$MIRROR" ]] || { echo "Cannot build the base image: no Debian mirror found in /etc/apt; set ATOLL_DEBIAN_MIRROR" >&2; exit 1; }

TMP="$DATA/images/base/.build-$HASH"
ROOT="$TMP/rootfs"
cleanup_mounts() {
  for m in proc dev/pts dev sys; do mountpoint -q "$ROOT/$m" 2>/dev/null && umount -l "$ROOT/$m" || true; done
}
trap cleanup_mounts EXIT
cleanup_mounts
rm -rf "$TMP"
mkdir -p "$TMP"

step "1/5 debootstrap $SUITE (minbase) from the host's mirror"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" 2>&1 | grep -E '^I: (Retrieving|Installing|Configuring|Base system)' | awk 'NR%25==1' || true
[[ -x "$ROOT/bin/bash" ]] || { echo "Cannot build the base image: debootstrap failed" >&2; exit 1; }

step "2/5 apt packages: $(grep -v '^#' "$HERE/packages.txt" | xargs)"
mount -t proc proc "$ROOT/proc"
mount --bind /dev "$ROOT/dev"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
cat > "$ROOT/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
exit 101
EOF
chmod +x "$ROOT/usr/sbin/policy-rc.d"
PKGS="$(grep -v '^#' "$HERE/packages.txt" | xargs)"
chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c \
  "apt-get update -qq && apt-get install -y -qq --no-install-recommends $PKGS" 2>&1 \
  | grep -E '^(Setting up|E:)' | awk '/^E:/ || NR%20==1' || true
for p in git python3 node tini curl; do
  chroot "$ROOT" sh -c "command -v $p >/dev/null" || { echo "Cannot build the base image: $p missing after apt" >&2; exit 1; }
done

chroot "$ROOT" python3 -c "import IPython, numpy, pandas, matplotlib" || { echo "Cannot build the base image: python packages missing" >&2; exit 1; }

step "3/5 Bun $BUN_VERSION (npm package @oven/bun-linux-x64)"
BUNTMP="$(mktemp -d)"
( cd "$BUNTMP" && npm pack --silent "@oven/bun-linux-x64@$BUN_VERSION" >/dev/null && tar xzf oven-bun-linux-x64-*.tgz )
install -m 0755 "$BUNTMP/package/bin/bun" "$ROOT/usr/local/bin/bun"
ln -sf bun "$ROOT/usr/local/bin/bunx"
rm -rf "$BUNTMP"
chroot "$ROOT" /usr/local/bin/bun --version >/dev/null

step "4/5 configure: workspace, matplotlib backend, clean caches"
mkdir -p "$ROOT/workspace" "$ROOT/opt/atoll"
mkdir -p "$ROOT/etc/matplotlib" && echo "backend: Agg" > "$ROOT/etc/matplotlib/matplotlibrc"
echo "atoll" > "$ROOT/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$ROOT/etc/hosts"
: > "$ROOT/etc/resolv.conf"
rm -f "$ROOT/usr/sbin/policy-rc.d"
chroot "$ROOT" apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/tmp/* "$ROOT"/var/log/*.log
# Pre-compile matplotlib's font cache so the first plot in a sandbox is fast.
chroot "$ROOT" env HOME=/root python3 -c "import matplotlib.pyplot" 2>/dev/null || true
cleanup_mounts

step "5/5 publish"
rm -rf "$OUT"
mv "$TMP" "$OUT"
date -u +%FT%TZ > "$OUT/.complete"
ln -sfn "$HASH" "$DATA/images/base/current"
du -sh "$OUT/rootfs" | awk '{print "size " $1}'
echo "base image $HASH ready: $OUT/rootfs"
