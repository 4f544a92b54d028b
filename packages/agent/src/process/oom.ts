// User code should be what the kernel's OOM killer picks, not the agent. Lowering the agent's own
// oom_score_adj needs CAP_SYS_RESOURCE (not held in a sandbox's user namespace), but raising a
// process's value needs no privilege, so every user process (session shells, background
// processes, interpreter executors, and all they fork: the value is inherited) runs with
// userOomScoreAdj() = the agent's value + 500, at most 1000 (env ATOLL_AGENT_USER_OOM_SCORE_ADJ
// overrides; never below the agent's own value). User code may lower its value back down to the
// floor the sandbox was started with (the kernel allows that), so this is a preference, not a limit.
import { readFileSync, writeFileSync } from "node:fs";

let cached: number | null = null;

function ownOomScoreAdj(): number {
  try {
    const v = Number(readFileSync("/proc/self/oom_score_adj", "latin1").trim());
    return Number.isInteger(v) ? v : 0;
  } catch {
    return 0;
  }
}

export function userOomScoreAdj(): number {
  if (cached !== null) return cached;
  const own = ownOomScoreAdj();
  const env = Number(process.env.ATOLL_AGENT_USER_OOM_SCORE_ADJ);
  const want = process.env.ATOLL_AGENT_USER_OOM_SCORE_ADJ && Number.isInteger(env) ? env : own + 500;
  cached = Math.min(1000, Math.max(own, want));
  return cached;
}

/** A bash line that raises the running shell's own oom_score_adj; silent if it cannot. */
export function oomShellLine(): string {
  return `{ builtin echo ${userOomScoreAdj()} >/proc/self/oom_score_adj; } 2>/dev/null`;
}

/** Raises a freshly spawned child's oom_score_adj (before it runs user code); false if it could not. */
export function raiseOomScore(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, String(userOomScoreAdj()));
    return true;
  } catch {
    return false;
  }
}
