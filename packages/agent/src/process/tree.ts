// Finds and kills whole process trees by walking /proc.
// A tree is: the root pids, everything descended from them (by ppid), everything in their
// process groups, and everything whose environment carries a tag (KEY=value). The env tag
// catches processes that setsid()/double-fork and get re-parented to PID 1; a job cgroup (jobs.ts),
// when there is one, catches them even when they clear their environment.
import { readdirSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import type { Job } from "./jobs.js";

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
}

export interface TreeMatch {
  roots?: number[];
  /** Include every process in these process groups. */
  pgids?: number[];
  /** "KEY=value": include every process whose environment contains exactly this entry. */
  envTag?: string;
  /** Include every process of this job cgroup (and its children); it is frozen and killed last. */
  job?: Job | null;
  /** Never included (e.g. the agent itself). */
  exclude?: number[];
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses. */
function readStat(pid: number): ProcEntry | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "latin1");
    const rp = s.lastIndexOf(")");
    const f = s.slice(rp + 2).split(" ");
    return { pid, state: f[0]!, ppid: Number(f[1]), pgid: Number(f[2]) };
  } catch {
    return null;
  }
}

export function listProcs(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync("/proc")) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const e = readStat(Number(name));
    if (e) out.push(e);
  }
  return out;
}

/** Direct children of `pid`, from the per-task "children" files in /proc (empty when gone). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, "latin1").split(" ")) if (c) out.push(Number(c));
    } catch {
      /* task gone */
    }
  }
  return out;
}

/** All descendants of `pid` (children files; cheap when there are none). */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const stack = childrenOf(pid);
  const seen = new Set<number>();
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(p);
    stack.push(...childrenOf(p));
  }
  return out;
}

function hasEnvTag(pid: number, tag: string): boolean {
  try {
    const env = readFileSync(`/proc/${pid}/environ`);
    const needle = Buffer.from(tag + "\0");
    let i = env.indexOf(needle);
    while (i >= 0) {
      if (i === 0 || env[i - 1] === 0) return true;
      i = env.indexOf(needle, i + 1);
    }
    // The last entry may lack a trailing NUL.
    const t = Buffer.from(tag);
    return env.length >= t.length && env.subarray(env.length - t.length).equals(t) && (env.length === t.length || env[env.length - t.length - 1] === 0);
  } catch {
    return false;
  }
}

/** Live (non-zombie) pids of the tree described by `m`. */
export function findTree(m: TreeMatch): number[] {
  const procs = listProcs().filter((p) => p.state !== "Z" && p.state !== "X");
  const exclude = new Set([process.pid, 1, ...(m.exclude ?? [])]);
  const members = new Set<number>();
  const pgids = new Set(m.pgids ?? []);
  for (const p of procs) {
    if (exclude.has(p.pid)) continue;
    if ((m.roots ?? []).includes(p.pid) || pgids.has(p.pgid) || (m.envTag && hasEnvTag(p.pid, m.envTag))) members.add(p.pid);
  }
  for (const p of m.job?.pids() ?? []) if (!exclude.has(p)) members.add(p);
  // Close over descendants.
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const l = children.get(p.ppid);
    if (l) l.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const stack = [...members, ...(m.roots ?? [])];
  while (stack.length) {
    const pid = stack.pop()!;
    for (const c of children.get(pid) ?? []) {
      if (!members.has(c) && !exclude.has(c)) {
        members.add(c);
        stack.push(c);
      }
    }
  }
  return [...members];
}

/** Signals each pid. Never pid <= 1 (kill(-1) would reach every process) nor the agent itself. */
export function signalAll(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, sig);
    } catch {
      /* already gone */
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Grace period between the requested signal and SIGKILL (env ATOLL_KILL_GRACE_MS, default 5000). */
export function killGraceMs(): number {
  const v = Number(process.env.ATOLL_KILL_GRACE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 5000;
}

/**
 * Sends `signal` to every member of the tree, waits up to `graceMs` for them to go, then
 * SIGKILLs whatever is left (re-scanning, so children forked meanwhile die too).
 * Resolves with the number of distinct pids signalled, once the tree is empty (or after a bound).
 */
export async function killTree(m: TreeMatch, signal: NodeJS.Signals = "SIGTERM", graceMs = killGraceMs()): Promise<number> {
  const seen = new Set<number>();
  let pids = findTree(m);
  pids.forEach((p) => seen.add(p));
  if (signal !== "SIGKILL") {
    signalAll(pids, signal);
    // Stopped processes do not act on SIGTERM until continued.
    if (signal === "SIGTERM" || signal === "SIGINT" || signal === "SIGHUP") signalAll(pids, "SIGCONT");
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await sleep(Math.min(25, Math.max(1, deadline - Date.now())));
      pids = findTree(m);
      if (pids.length === 0) return seen.size;
      pids.forEach((p) => seen.add(p));
    }
  }
  // The job cgroup first: frozen, so nothing in it forks while it is killed.
  if (m.job) {
    findTree(m).forEach((p) => seen.add(p));
    await m.job.kill();
  }
  // SIGKILL until nothing is left; bounded so a pathological fork loop cannot hang us.
  for (let i = 0; i < 100; i++) {
    pids = findTree(m);
    if (pids.length === 0) break;
    pids.forEach((p) => seen.add(p));
    signalAll(pids, "SIGKILL");
    await sleep(i < 10 ? 2 : 20);
  }
  return seen.size;
}

/** Normalises "TERM", "sigterm", "15" or 15 to a signal name; null when unknown. */
export function parseSignal(v: unknown): NodeJS.Signals | null {
  if (v === undefined || v === null || v === "") return "SIGTERM";
  const sigs = constants.signals as Record<string, number>;
  if (typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v))) {
    const n = Number(v);
    const name = Object.keys(sigs).find((k) => sigs[k] === n);
    return (name as NodeJS.Signals) ?? null;
  }
  if (typeof v !== "string") return null;
  const up = v.toUpperCase();
  const name = up.startsWith("SIG") ? up : "SIG" + up;
  return Object.prototype.hasOwnProperty.call(sigs, name) ? (name as NodeJS.Signals) : null;
}

export function signalNumber(sig: string): number {
  return (constants.signals as Record<string, number>)[sig] ?? 0;
}
