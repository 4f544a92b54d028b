#!/bin/sh
# Sandbox entry, run by tini (PID 1): the template's startup command (if any) in the background,
# then the agent in a restart loop so a crashed agent comes back.
# ATOLL_AGENT_NODE: a node binary provided by the driver (faster start); else the image's node.
export HOME="${HOME:-/root}"
cd "${ATOLL_WORKDIR:-/workspace}" 2>/dev/null || cd /
if [ -n "$ATOLL_STARTUP" ]; then
  echo "[entry] startup: $ATOLL_STARTUP" >&2
  /bin/sh -c "$ATOLL_STARTUP" &
fi
NODE_BIN="${ATOLL_AGENT_NODE:-node}"
[ -x "$NODE_BIN" ] || NODE_BIN=node
fails=0
while :; do
  started=$(date +%s)
  "$NODE_BIN" /opt/atoll/agent/agent.mjs
  code=$?
  # Back off when the agent keeps dying right after start; restart at once after a long run.
  if [ $(( $(date +%s) - started )) -lt 5 ]; then fails=$((fails + 1)); else fails=0; fi
  echo "[entry] agent exited with $code; restarting" >&2
  if [ "$fails" -gt 3 ]; then sleep 2; else sleep 0.1; fi
done
