// A private directory for the agent's own runtime files (session state dumps).
// Per agent process, so several agents on one host (tests) never share files.
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let dir: string | null = null;

export function runDir(): string {
  if (dir) return dir;
  const bases = [process.env.ATOLL_AGENT_RUN_DIR, "/run/atoll-agent", join(tmpdir(), "atoll-agent")].filter(Boolean) as string[];
  for (const base of bases) {
    const d = join(base, String(process.pid));
    try {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      dir = d;
      return d;
    } catch {
      /* try the next base */
    }
  }
  throw new Error("Cannot create the agent run directory");
}
