// Type guards Cloudflare's SDK exports (isExecResult, isProcess, isProcessStatus).
import type { ExecResult } from "./exec.js";
import { Process, type ProcessStatus } from "./processes.js";

const STATUSES: readonly string[] = ["starting", "running", "completed", "failed", "killed", "error"];

export function isExecResult(v: unknown): v is ExecResult {
  const r = v as ExecResult;
  return !!r && typeof r === "object" && typeof r.exitCode === "number" && typeof r.stdout === "string" && typeof r.stderr === "string" && typeof r.success === "boolean";
}

export function isProcess(v: unknown): v is Process {
  return v instanceof Process;
}

export function isProcessStatus(v: string): v is ProcessStatus {
  return STATUSES.includes(v);
}
