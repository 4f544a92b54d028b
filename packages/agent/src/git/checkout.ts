// git/checkout: a non-interactive `git clone` with stall and total timeouts, classified errors and
// credentials redacted from everything that leaves this module.
import { spawn } from "node:child_process";
import fsp from "node:fs/promises";
import path from "node:path";
import { AtollError, ErrorCode } from "@atoll/protocol";
import { resolvePath, workspaceDir } from "../files/paths.js";
import { classifyGitError } from "./classify.js";
import { redact, redactDeep, secretsOf } from "./redact.js";
import { repoName, validateGitUrl } from "./url.js";

export interface CheckoutOptions {
  repoUrl?: unknown;
  branch?: unknown;
  targetDir?: unknown;
  depth?: unknown;
  timeoutMs?: unknown;
}

export interface CheckoutOutcome {
  repoUrl: string;
  branch: string;
  targetDir: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const STDERR_KEEP = 16 * 1024;

/** Kill git when it has printed nothing for this long (a black-holed host prints nothing). */
function stallTimeoutMs(): number {
  const v = Number(process.env.ATOLL_GIT_STALL_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot clone: "${field}" must be a string`, { field });
  return v;
}

export async function gitCheckout(o: CheckoutOptions): Promise<CheckoutOutcome> {
  const url = validateGitUrl(o.repoUrl);
  const secrets = secretsOf(url);
  const shown = redact(url, secrets);
  const branch = optionalString(o.branch, "branch");
  if (branch !== undefined && (branch.startsWith("-") || /[\x00-\x20\x7f~^:?*[\\]/.test(branch))) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot clone ${shown}: "${redact(branch, secrets)}" is not a valid branch name`, { repository: shown, branch });
  }
  let depth: number | undefined;
  if (o.depth !== undefined && o.depth !== null) {
    if (typeof o.depth !== "number" || !Number.isInteger(o.depth) || o.depth < 1 || o.depth > 2 ** 31 - 1) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot clone ${shown}: "depth" must be a positive integer`, { field: "depth" });
    }
    depth = o.depth;
  }
  const timeoutMs = typeof o.timeoutMs === "number" && o.timeoutMs > 0 ? o.timeoutMs : DEFAULT_TIMEOUT_MS;
  const targetRaw = optionalString(o.targetDir, "targetDir");
  const target = targetRaw !== undefined ? resolvePath(targetRaw, "targetDir") : path.join(workspaceDir(), repoName(url));
  const existed = await fsp.stat(target).then(() => true, () => false);

  const args = [
    "-c", "credential.helper=",
    "-c", "core.askPass=",
    "-c", "http.lowSpeedLimit=1",
    "-c", `http.lowSpeedTime=${Math.ceil(stallTimeoutMs() / 1000)}`,
    "clone", "--progress",
    ...(depth ? ["--depth", String(depth)] : []),
    ...(branch ? ["--branch", branch] : []),
    "--", url, target,
  ];
  console.error(`[agent] git clone ${shown}${branch ? ` (branch ${branch})` : ""} -> ${target}`);
  const res = await runGit(args, timeoutMs);
  if (res.code !== 0) {
    if (!existed) await fsp.rm(target, { recursive: true, force: true }).catch(() => {});
    const stderr = redact(res.stderr.trim(), secrets);
    const code = res.timedOut ? ErrorCode.GIT_NETWORK_ERROR : classifyGitError(stderr);
    const why = res.timedOut
      ? res.timedOut === "stall" ? `no response from the remote for ${Math.round(stallTimeoutMs() / 1000)} s` : `clone took longer than ${timeoutMs} ms`
      : lastFatal(stderr);
    const context = redactDeep({ repository: shown, branch, targetDir: target, stderr: stderr.slice(-4096), exitCode: res.code }, secrets);
    console.error(`[agent] git clone ${shown} failed (${code}): ${why}`);
    throw new AtollError(code, `Cannot clone ${shown}: ${why}`, context);
  }
  const actual = branch ?? (await currentBranch(target));
  return { repoUrl: shown, branch: actual, targetDir: target };
}

/** The most telling line of git's stderr: the last "fatal:"/"error:" line. */
function lastFatal(stderr: string): string {
  const lines = stderr.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  const fatal = lines.filter((l) => /^(fatal|error):/i.test(l)).pop() ?? lines.pop() ?? "git clone failed";
  return fatal.replace(/^(fatal|error):\s*/i, "");
}

interface GitRun {
  code: number | null;
  stderr: string;
  timedOut: false | "stall" | "total";
}

function runGit(args: string[], timeoutMs: number, cwd?: string): Promise<GitRun> {
  return new Promise((resolve) => {
    const child = spawn("git", args, {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
      detached: true, // own process group, so helpers (remote-https, index-pack) die with it
      env: {
        ...process.env,
        GIT_TERMINAL_PROMPT: "0",
        GIT_ASKPASS: "",
        SSH_ASKPASS: "",
        GCM_INTERACTIVE: "never",
        GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o ConnectTimeout=30",
        GIT_ALLOW_PROTOCOL: "http:https:git:ssh:file",
        LC_ALL: "C",
        LANG: "C",
      },
    });
    let stderr = "";
    let timedOut: GitRun["timedOut"] = false;
    const kill = (why: "stall" | "total") => {
      timedOut = why;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    let stall = setTimeout(() => kill("stall"), stallTimeoutMs());
    const total = setTimeout(() => kill("total"), timeoutMs);
    child.stderr!.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString("utf8")).slice(-STDERR_KEEP);
      clearTimeout(stall);
      stall = setTimeout(() => kill("stall"), stallTimeoutMs());
    });
    const finish = (code: number | null) => {
      clearTimeout(stall);
      clearTimeout(total);
      resolve({ code, stderr, timedOut });
    };
    child.once("error", (e) => {
      stderr += `\nerror: cannot run git: ${e.message}`;
      finish(127);
    });
    child.once("close", (code) => finish(code));
  });
}

async function currentBranch(dir: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn("git", ["-C", dir, "symbolic-ref", "--short", "-q", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.once("error", () => resolve("HEAD"));
    child.once("close", () => resolve(out.trim() || "HEAD"));
  });
}
