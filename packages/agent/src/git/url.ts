// Validates git repository URLs: http(s)://, git://, ssh://, file:// and scp-style user@host:path.
import { AtollError, ErrorCode } from "@atoll/protocol";
import { redactUrls } from "./redact.js";

const SCHEMES = new Set(["http:", "https:", "git:", "ssh:", "file:"]);
const SCP_LIKE = /^(?:[A-Za-z0-9._~-]+@)?[A-Za-z0-9.-]+:(?!\/\/)[^\s]+$/;

export function validateGitUrl(repoUrl: unknown): string {
  if (typeof repoUrl !== "string" || repoUrl.trim().length === 0) {
    throw new AtollError(ErrorCode.INVALID_GIT_URL, `Cannot clone: "repoUrl" must be a non-empty string`, { validationErrors: ["repoUrl is required"] });
  }
  const shown = redactUrls(repoUrl);
  const bad = (why: string) => new AtollError(ErrorCode.INVALID_GIT_URL, `Cannot clone ${shown}: ${why}`, { repository: shown, validationErrors: [why] });
  // Control characters and whitespace never belong in a URL; a leading "-" would be read as an option.
  if (/[\x00-\x20\x7f]/.test(repoUrl)) throw bad("the URL contains whitespace or control characters");
  if (repoUrl.startsWith("-")) throw bad("the URL must not start with '-'");
  if (repoUrl.length > 4096) throw bad("the URL is longer than 4096 characters");
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(repoUrl);
  if (scheme) {
    const proto = scheme[1]!.toLowerCase() + ":";
    if (!SCHEMES.has(proto)) throw bad(`unsupported scheme "${scheme[1]}" (use https, http, git, ssh or file)`);
    let u: URL;
    try {
      u = new URL(repoUrl);
    } catch {
      throw bad("the URL cannot be parsed");
    }
    if (proto !== "file:" && !u.hostname) throw bad("the URL has no host");
    if (proto === "file:" && u.pathname.length <= 1) throw bad("the file URL has no path");
    return repoUrl;
  }
  if (SCP_LIKE.test(repoUrl) && !/^[a-z]+::/i.test(repoUrl)) return repoUrl;
  throw bad("not a git URL (expected https://host/owner/repo.git, git://…, ssh://…, file:///… or user@host:path)");
}

/** The default checkout directory name: the URL's last path segment without ".git". */
export function repoName(repoUrl: string): string {
  const trimmed = repoUrl.replace(/[?#].*$/, "").replace(/\/+$/, "");
  const last = trimmed.split(/[/:]/).pop() ?? "";
  const name = last.replace(/\.git$/, "");
  return name && name !== "." && name !== ".." ? name : "repo";
}
