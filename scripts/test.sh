#!/usr/bin/env bash
# Sets up the host (with test dependencies), typechecks, then runs every test — unit and
# end-to-end against real sandboxes — in one node:test run so there is one summary line.
# Files run one at a time by default (ATOLL_TEST_CONCURRENCY): several control planes sharing one
# host at once is not how Atoll is deployed, and it makes host-wide timing flakier on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --test
echo "[test] typecheck"
npx tsc -p tsconfig.json --noEmit
shopt -s nullglob
FILES=(packages/*/test/*.test.ts tests/e2e/*.test.ts tests/security/*.test.ts)
echo "[test] ${#FILES[@]} test files"
exec node --import tsx --test --test-concurrency="${ATOLL_TEST_CONCURRENCY:-1}" --test-timeout=600000 "${FILES[@]}"
