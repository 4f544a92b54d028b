// The agent's shared session and process registries (one per agent process).
// On SIGTERM/SIGINT the agent ends its shells and processes before exiting, so nothing it
// started outlives it (they are detached from the agent's process group).
import { rmSync } from "node:fs";
import { ProcessManager } from "../process/manager.js";
import { SessionManager } from "./manager.js";
import { runDir } from "./rundir.js";

let state: { sessions: SessionManager; processes: ProcessManager } | null = null;

export function agentState(): { sessions: SessionManager; processes: ProcessManager } {
  if (!state) {
    const sessions = new SessionManager();
    state = { sessions, processes: new ProcessManager(sessions) };
    const s = state;
    const shutdown = (sig: NodeJS.Signals) => {
      const bound = setTimeout(() => process.exit(128 + (sig === "SIGINT" ? 2 : 15)), 3000);
      void Promise.allSettled([s.processes.killAll("SIGKILL"), s.sessions.destroyAll()]).then(() => {
        clearTimeout(bound);
        rmSync(runDir(), { recursive: true, force: true });
        process.exit(128 + (sig === "SIGINT" ? 2 : 15));
      });
    };
    process.once("SIGTERM", shutdown);
    process.once("SIGINT", shutdown);
  }
  return state;
}
