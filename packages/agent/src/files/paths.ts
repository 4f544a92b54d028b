// Path rules for every files/git/watch route: no NUL bytes; relative paths resolve against the
// workspace directory (ATOLL_WORKSPACE, default /workspace).
import path from "node:path";
import { AtollError, ErrorCode } from "@atoll/protocol";

export function workspaceDir(): string {
  return process.env.ATOLL_WORKSPACE || "/workspace";
}

/** Validates and resolves a user path to an absolute, normalised path. */
export function resolvePath(p: unknown, field = "path"): string {
  if (typeof p !== "string" || p.length === 0) {
    throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot use path: "${field}" must be a non-empty string`, { field });
  }
  if (p.includes("\0")) throw new AtollError(ErrorCode.INVALID_PATH, "Cannot use path: it contains a NUL byte", { field });
  if (p.length > 4096) throw new AtollError(ErrorCode.NAME_TOO_LONG, "Cannot use path: longer than 4096 characters", { field });
  return path.resolve(workspaceDir(), p);
}

/** Reads ?path= from a URL with the same rules. */
export function queryPath(url: URL, field = "path"): string {
  return resolvePath(url.searchParams.get(field) ?? "", field);
}
