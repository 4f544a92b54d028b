#!/usr/bin/env bash
# Prepares a Debian 12 host for Atoll (idempotent): system packages, npm packages, the agent
# bundle, host networking/cgroups, and the base sandbox image (cached).
# Usage: scripts/setup.sh [--test]   (--test adds what the test suite needs: chromium, nginx, wrk, and Debian Python packaging + pytest + httpx + mypy for the Python SDK tests)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

[[ $EUID -eq 0 ]] || { echo "Cannot set up Atoll: run as root (sandboxes need namespaces, cgroups and iptables)" >&2; exit 1; }
command -v node >/dev/null || { echo "Cannot set up Atoll: Node.js >= 20 is required (node not found)" >&2; exit 1; }
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
(( NODE_MAJOR >= 20 )) || { echo "Cannot set up Atoll: Node.js >= 20 is required (found $(node -v))" >&2; exit 1; }

# gcc + libc6-dev: the oci driver compiles its idmapped-mount helper (packages/server/native) at init
PKGS=(crun runc debootstrap iptables iproute2 e2fsprogs util-linux git curl ca-certificates psmisc tar gcc libc6-dev)
if [[ "${1:-}" == "--test" ]]; then PKGS+=(chromium nginx-light wrk inotify-tools skopeo python3-venv python3-hatchling python3-build python3-pytest python3-httpx python3-mypy); fi
MISSING=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || MISSING+=("$p"); done
if (( ${#MISSING[@]} )); then
  say "apt: installing ${MISSING[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
else
  say "apt: all packages present"
fi

say "npm: installing workspace packages"
# npm ci only on a fresh checkout: it deletes node_modules, which running processes may be using.
if [[ -f package-lock.json && ! -d node_modules ]]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi

say "build: agent bundle"
node scripts/build.mjs

if [[ -f scripts/setup-host.sh ]]; then
  say "host: cgroups, bridge, firewall"
  bash scripts/setup-host.sh
fi

# The data dir holds sandbox files and secrets: root only (the control plane also tightens it on start).
DATA_DIR="${ATOLL_DATA_DIR:-/var/lib/atoll}"
mkdir -p "$DATA_DIR" && chmod 700 "$DATA_DIR"

say "image: base sandbox rootfs (cached by recipe hash)"
bash images/base/build.sh
say "ready"
