// Job cgroups: user work tracked by cgroup membership, which a setsid, a double fork or a cleared
// environment cannot leave (children are born in their parent's cgroup). The oci driver delegates
// the sandbox's own cgroup to it (driver: cgroup-delegate.ts) and says so with ATOLL_CGROUP_JOBS
// = v1 | v2. The agent, tini and entry.sh stay in the sandbox's root cgroup; user work goes into
// child cgroups, one per job:
//   s-<id>            a session's shell between commands      (spared by kill-all)
//   s-<id>/x-<token>  one command of that session              (spared while it runs)
//   p-<key>           a background process and all it started
//   i-<id>            an interpreter executor                  (spared by kill-all)
//   boot              the template's startup command and anything else found at agent start
// A job is killed by freezing it (v1 freezer / v2 cgroup.freeze: nothing in it can fork any more),
// SIGKILLing every task in it and thawing (or cgroup.kill on v2), repeated until it is empty.
// Without delegation (agent run outside a sandbox, other drivers) jobs() is null and callers fall
// back to /proc trees (tree.ts).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";

type Mode = "v1" | "v2";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Job dirs whose own tasks kill-all spares (sessions' shells, running commands, interpreters, boot). */
const spared = new Set<string>();

function hierarchies(mode: Mode): string[] {
  return mode === "v1" ? ["/sys/fs/cgroup/pids", "/sys/fs/cgroup/freezer"] : ["/sys/fs/cgroup"];
}

/** Never signalled nor frozen: PID 1 (tini), the agent and its parent (entry.sh). */
function isInfra(pid: number): boolean {
  return pid <= 1 || pid === process.pid || pid === process.ppid;
}

function readPids(file: string): number[] {
  try {
    return readFileSync(file, "latin1").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Cgroups visited at most per walk: user code can nest cgroups at will; a walk must stay bounded. */
const MAX_WALK = 100_000;

/** `rel` and every cgroup below it, parents before children (iterative: nesting depth is the user's). */
function walk(mode: Mode, rel: string): string[] {
  const out = [rel];
  for (let i = 0; i < out.length && out.length < MAX_WALK; i++) {
    for (const c of subdirs(out[i] ? `${hierarchies(mode)[0]}/${out[i]}` : hierarchies(mode)[0]!)) out.push(out[i] ? `${out[i]}/${c}` : c);
  }
  return out;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

export class Job {
  constructor(
    readonly mode: Mode,
    /** Path below the sandbox's cgroup, "" for the sandbox's cgroup itself. */
    readonly rel: string,
  ) {}

  private dirs(): string[] {
    return hierarchies(this.mode).map((h) => (this.rel ? `${h}/${this.rel}` : h));
  }

  child(name: string): Job {
    return new Job(this.mode, this.rel ? `${this.rel}/${name}` : name);
  }

  /** Creates the cgroup (every hierarchy); false when it cannot. */
  ensure(): boolean {
    try {
      for (const d of this.dirs()) mkdirSync(d, { recursive: true });
      return true;
    } catch {
      return false;
    }
  }

  /** Moves `pid` (a whole process) into this job; false when it could not (gone, not allowed). */
  adopt(pid: number | undefined): boolean {
    if (!pid || isInfra(pid) || !this.rel || !this.ensure()) return false;
    try {
      for (const d of this.dirs()) writeFileSync(`${d}/cgroup.procs`, String(pid));
      return true;
    } catch {
      return false;
    }
  }

  /** A bash line that moves the running shell itself into this job, before any user code runs. */
  joinLine(): string {
    return this.dirs()
      .map((d) => `{ builtin echo $BASHPID >'${d}/cgroup.procs'; } 2>/dev/null`)
      .join("; ");
  }

  set spared(on: boolean) {
    if (on) spared.add(this.rel);
    else spared.delete(this.rel);
  }

  /** Every process in this job and its child cgroups. */
  pids(): number[] {
    const out = new Set<number>();
    for (const rel of walk(this.mode, this.rel)) for (const h of hierarchies(this.mode)) for (const p of readPids(`${h}/${rel}/cgroup.procs`)) out.add(p);
    return [...out];
  }

  private setFrozen(on: boolean): boolean {
    const d = this.dirs().at(-1)!;
    try {
      if (this.mode === "v1") writeFileSync(`${d}/freezer.state`, on ? "FROZEN" : "THAWED");
      else writeFileSync(`${d}/cgroup.freeze`, on ? "1" : "0");
      return true;
    } catch {
      return false;
    }
  }

  private frozen(): boolean {
    const d = this.dirs().at(-1)!;
    try {
      if (this.mode === "v1") return readFileSync(`${d}/freezer.state`, "latin1").trim() === "FROZEN";
      return /^frozen 1$/m.test(readFileSync(`${d}/cgroup.events`, "latin1"));
    } catch {
      return false;
    }
  }

  /** Sends `sig` to every process of the job (never to the agent or PID 1). */
  signal(sig: NodeJS.Signals): number {
    const pids = this.pids().filter((p) => !isInfra(p));
    for (const p of pids) {
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    }
    return pids.length;
  }

  /**
   * SIGKILLs everything in the job, frozen first so nothing forks meanwhile; resolves with the
   * number of distinct pids killed once the job is empty (or after a bound of a few seconds).
   */
  async kill(): Promise<number> {
    if (!this.rel) throw new Error("Cannot kill the sandbox's own cgroup: it holds the agent");
    const seen = new Set<number>();
    const cgKill = this.mode === "v2" && existsSync(`${this.dirs()[0]}/cgroup.kill`);
    for (let i = 0; i < 200; i++) {
      let pids = this.pids();
      if (pids.length === 0) break;
      // Hostile code may have moved the agent or PID 1 in here: never freeze (or cgroup.kill) those.
      const infra = pids.some(isInfra);
      pids.forEach((p) => seen.add(p));
      if (cgKill && !infra) {
        try {
          writeFileSync(`${this.dirs()[0]}/cgroup.kill`, "1");
        } catch {
          /* gone */
        }
      } else {
        const froze = !infra && this.setFrozen(true);
        if (froze) for (let w = 0; w < 100 && !this.frozen(); w++) await sleep(w < 10 ? 1 : 10);
        pids = this.pids();
        pids.forEach((p) => seen.add(p));
        this.signal("SIGKILL");
        if (froze) this.setFrozen(false);
      }
      await sleep(i < 10 ? 2 : 20);
    }
    return seen.size;
  }

  /** Removes this job's cgroup and its children if they are empty (deepest first). */
  remove(): void {
    if (!this.rel) return;
    for (const rel of walk(this.mode, this.rel).reverse()) {
      if (spared.has(rel) && rel !== this.rel) continue;
      for (const h of hierarchies(this.mode)) {
        try {
          rmdirSync(`${h}/${rel}`);
        } catch {
          /* busy (or a spared child left it non-empty) or gone */
        }
      }
    }
  }
}

let root: Job | null | undefined;

/** How often empty, unspared job cgroups (a command whose `&` jobs ended since) are removed. */
const PRUNE_EVERY_MS = 60_000;

function pruneEmpty(): void {
  const r = root;
  if (!r) return;
  for (const c of subdirs(hierarchies(r.mode)[0]!)) {
    const j = r.child(c);
    if (spared.has(j.rel)) for (const x of subdirs(`${hierarchies(r.mode)[0]}/${c}`)) j.child(x).remove();
    else j.remove();
  }
}

/** The sandbox's cgroup as a Job when delegated to the agent (ATOLL_CGROUP_JOBS and writable); else null. */
export function jobs(): Job | null {
  if (root !== undefined) return root;
  const mode = process.env.ATOLL_CGROUP_JOBS;
  root = null;
  if (mode !== "v1" && mode !== "v2") return root;
  const probe = new Job(mode, `probe-${process.pid}`);
  if (probe.ensure()) {
    probe.remove();
    root = new Job(mode, "");
    setInterval(pruneEmpty, PRUNE_EVERY_MS).unref();
  } else {
    console.error("[agent] ATOLL_CGROUP_JOBS is set but the cgroup is not writable: tracking processes by /proc only");
  }
  return root;
}

/** A new job directly below the sandbox's cgroup ("<kind>-<random>"), created; null without delegation. */
export function newJob(kind: "s" | "p" | "i"): Job | null {
  const j = jobs()?.child(`${kind}-${randomBytes(6).toString("hex")}`) ?? null;
  return j && j.ensure() ? j : null;
}

/**
 * Moves every process of the sandbox's root cgroup other than the agent, its parent and PID 1
 * into the "boot" job (the template's startup command, started before the agent).
 */
export function adoptStrays(): void {
  const r = jobs();
  if (!r) return;
  const boot = r.child("boot");
  boot.spared = true;
  // Repeated: a process not moved yet may fork meanwhile (its child is born in the root cgroup).
  for (let i = 0; i < 20; i++) {
    const strays = readPids(`${hierarchies(r.mode)[0]}/cgroup.procs`).filter((p) => !isInfra(p));
    if (!strays.length) break;
    for (const p of strays) boot.adopt(p);
  }
}

/**
 * Kill-all without `everything`: SIGKILLs every job that is not spared (leftovers of finished
 * commands, processes, jobs of an earlier agent, cgroups user code made), looking inside spared
 * ones for unspared children. Resolves with the number of pids killed.
 */
export async function killUnspared(): Promise<number> {
  const r = jobs();
  if (!r) return 0;
  let n = 0;
  const visit = async (j: Job, depth: number): Promise<void> => {
    for (const c of subdirs(`${hierarchies(r.mode)[0]}/${j.rel}`.replace(/\/$/, ""))) {
      const cj = j.child(c);
      if (spared.has(cj.rel) && depth < 16) await visit(cj, depth + 1);
      else if (!spared.has(cj.rel)) {
        n += await cj.kill();
        cj.remove();
      }
    }
  };
  await visit(r, 0);
  return n;
}

/**
 * "Everything except the agent": SIGKILLs every child cgroup of the sandbox (whatever its name)
 * and every process of the sandbox's root cgroup other than the agent, its parent and PID 1.
 * Spared jobs are emptied but kept (their shells and executors come back on next use).
 */
export async function killEverything(): Promise<number> {
  const r = jobs();
  if (!r) return 0;
  const top = subdirs(hierarchies(r.mode)[0]!).map((c) => r.child(c));
  const counts = await Promise.all(top.map((j) => j.kill()));
  // Stragglers in the root cgroup (e.g. started by `runtime exec` from the host).
  const strays = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const left = readPids(`${hierarchies(r.mode)[0]}/cgroup.procs`).filter((p) => !isInfra(p));
    if (!left.length) break;
    left.forEach((p) => strays.add(p));
    for (const sig of ["SIGSTOP", "SIGKILL"] as const) for (const p of left) try { process.kill(p, sig); } catch { /* gone */ }
    await sleep(5);
  }
  for (const j of top) if (!spared.has(j.rel)) j.remove();
  return counts.reduce((a, b) => a + b, 0) + strays.size;
}
