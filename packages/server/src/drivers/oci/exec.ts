// Runs host tools (ip, iptables, mount, crun) without a shell and collects their output.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  /** Do not throw on a non-zero exit. */
  allowFail?: boolean;
  timeoutMs?: number;
  /** File descriptor or "ignore" for the child's stdout/stderr (detached runtimes keep them). */
  stdio?: [any, any, any];
}

const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: opts.stdio ?? ["pipe", "pipe", "pipe"],
      env: { ...process.env, PATH: `${process.env.PATH ?? ""}:${PATH}` },
      timeout: opts.timeoutMs ?? 30_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => { if (stdout.length < 1 << 20) stdout += d; });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => { if (stderr.length < 1 << 20) stderr += d; });
    child.on("error", (e) => reject(new Error(`Cannot run ${cmd}: ${e.message}`)));
    child.on("close", (code, signal) => {
      const res = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (res.code !== 0 && !opts.allowFail) {
        const err = new Error(`Cannot run ${cmd} ${args.join(" ")}: exit ${res.code}: ${stderr.trim() || stdout.trim()}`);
        (err as Error & { result?: RunResult }).result = res;
        reject(err);
      } else resolve(res);
    });
    if (child.stdin) {
      child.stdin.on("error", () => {});
      child.stdin.end(opts.input ?? "");
    }
  });
}

/** True while the process exists and is not a zombie (a killed sandbox init lingers as one). */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
