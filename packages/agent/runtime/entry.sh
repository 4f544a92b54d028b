#!/bin/sh
# Sandbox entry, run by tini (PID 1): the template's startup command (if any) in the background,
# then the agent in a restart loop so a crashed agent comes back.
# ATOLL_AGENT_NODE: a node binary provided by the driver (faster start); else the image's node.
# On SIGTERM (the driver's stop() sends it to every process) the loop ends and this shell waits
# until every other process of the sandbox has exited, so servers get the driver's grace period
# to flush; the driver kills whatever is left when the grace period ends.
export HOME="${HOME:-/root}"
cd "${ATOLL_WORKDIR:-/workspace}" 2>/dev/null || cd /
stopping=
agent=
trap 'stopping=1; [ -n "$agent" ] && kill -TERM "$agent" 2>/dev/null' TERM INT
# The startup command is user code: it runs without Atoll's ATOLL_* settings in its environment
# and with a raised oom_score_adj (this shell's + 500, at most 1000), like the agent's shells, so
# under memory pressure it dies before the agent.
if [ -n "$ATOLL_STARTUP" ]; then
  echo "[entry] startup: $ATOLL_STARTUP" >&2
  (
    startup=$ATOLL_STARTUP
    for v in $(env | sed -n 's/^\(ATOLL_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
    adj=$(cat /proc/self/oom_score_adj 2>/dev/null || echo 0)
    adj=$((adj + 500)); [ "$adj" -gt 1000 ] && adj=1000
    { echo "$adj" >/proc/self/oom_score_adj; } 2>/dev/null
    exec /bin/sh -c "$startup"
  ) &
fi
NODE_BIN="${ATOLL_AGENT_NODE:-node}"
[ -x "$NODE_BIN" ] || NODE_BIN=node
fails=0
while [ -z "$stopping" ]; do
  started=$(date +%s)
  "$NODE_BIN" /opt/atoll/agent/agent.mjs &
  agent=$!
  wait "$agent"
  code=$?
  # `wait` returns early when a trapped signal arrives; wait again for the agent itself
  while kill -0 "$agent" 2>/dev/null; do wait "$agent"; code=$?; done
  agent=
  [ -n "$stopping" ] && break
  # Back off when the agent keeps dying right after start; restart at once after a long run.
  if [ $(( $(date +%s) - started )) -lt 5 ]; then fails=$((fails + 1)); else fails=0; fi
  echo "[entry] agent exited with $code; restarting" >&2
  if [ "$fails" -gt 3 ]; then sleep 2; else sleep 0.1; fi
done
# stopping: wait for the rest of the sandbox (only tini and this shell left = 2 processes)
while :; do
  set -- /proc/[0-9]*
  [ "$#" -le 2 ] && break
  sleep 0.05
done
exit 0
