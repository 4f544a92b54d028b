// Process.waitForPort: polls from inside the sandbox (exec of curl, or bash's /dev/tcp) until the
// port answers, the process exits, or the deadline passes.
import { ErrorCode, portProblem } from "@atoll/protocol";
import type { Ctx } from "./core.js";
import { sdkError } from "./errors.js";
import { exec } from "./exec.js";

export interface WaitForPortOptions {
  /** "http" (default): an HTTP GET must answer with `status`; "tcp": a connect must succeed. */
  mode?: "http" | "tcp";
  /** HTTP path (default "/"). */
  path?: string;
  /** Accepted status: one code or a range (default 200–399). */
  status?: number | { min: number; max: number };
  /** Give up after this many ms (default 60 000). */
  timeout?: number;
  /** Pause between attempts in ms (default 200). */
  interval?: number;
}

/** Shell-quotes a value for bash. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The one-shot check run inside the sandbox; prints the HTTP status (http) and exits 0 on success. */
export function portCheckCommand(port: number, mode: "http" | "tcp", path: string): string {
  if (mode === "tcp") return `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null`;
  const url = shq(`http://127.0.0.1:${port}${path.startsWith("/") ? path : "/" + path}`);
  // curl when present; otherwise a minimal HTTP/1.0 GET over /dev/tcp, printing the status code.
  const req = shq(`GET ${path.startsWith("/") ? path : "/" + path} HTTP/1.0\r\nHost: localhost\r\n\r\n`);
  return (
    `if command -v curl >/dev/null 2>&1; then curl -s -o /dev/null -m 2 -w '%{http_code}' ${url}; ` +
    `else (exec 3<>/dev/tcp/127.0.0.1/${port} && printf ${req} >&3 && head -n1 <&3 | cut -d' ' -f2) 2>/dev/null; fi`
  );
}

function statusOk(code: number, want: WaitForPortOptions["status"]): boolean {
  if (typeof want === "number") return code === want;
  const { min, max } = want ?? { min: 200, max: 399 };
  return code >= min && code <= max;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForPort(
  ctx: Ctx,
  port: number,
  opts: WaitForPortOptions,
  processState: () => Promise<{ exited: boolean; exitCode?: number }>,
): Promise<void> {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw sdkError(ErrorCode.INVALID_PORT, `Cannot wait for port ${String(port)}: ${portProblem(port) ?? "port must be 1-65535"}`, { port });
  }
  const mode = opts.mode ?? "http";
  const timeout = opts.timeout ?? 60_000;
  const interval = opts.interval ?? 200;
  const cmd = portCheckCommand(port, mode, opts.path ?? "/");
  const deadline = Date.now() + timeout;
  let last = "";
  for (let attempt = 0; ; attempt++) {
    const r = await exec(ctx, cmd, { timeout: 5000 });
    if (mode === "tcp" ? r.exitCode === 0 : statusOk(Number(r.stdout.trim()), opts.status)) return;
    last = mode === "tcp" ? "connection refused" : `HTTP status ${r.stdout.trim() || "none"}`;
    const st = await processState();
    if (st.exited) {
      throw sdkError(ErrorCode.PROCESS_EXITED_BEFORE_READY, `Cannot wait for port ${port}: the process exited (code ${st.exitCode ?? "none"}) before the port was ready`, { port, exitCode: st.exitCode });
    }
    if (Date.now() + interval > deadline) {
      throw sdkError(ErrorCode.PROCESS_READY_TIMEOUT, `Cannot wait for port ${port}: not ready after ${timeout} ms (${attempt + 1} attempts, last: ${last})`, { port, timeout, mode });
    }
    await sleep(interval);
  }
}
