#!/usr/bin/env bash
# Quick start: set up the host, then run the control plane on embedded defaults
# (SQLite, the oci driver, the base image) on http://127.0.0.1:8787.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec node --import tsx packages/cli/src/main.ts serve "$@"
