// Preview host names: {port}-{sandboxId}-{token}.{domain}. Pure; no I/O.
// The token has a fixed length (16), so a sandbox id containing dashes still parses unambiguously.
// New tokens are [a-z0-9_]; the parser also accepts '-' in tokens issued before that rule.
import { LEGACY_TOKEN_RE, SANDBOX_ID_RE, TOKEN_LENGTH, portProblem } from "./ids.js";

export interface PreviewTarget {
  port: number;
  sandboxId: string;
  token: string;
}

const LABEL_RE = new RegExp(`^(\\d{4,5})-(.+)-([a-z0-9_-]{${TOKEN_LENGTH}})$`);

/** Strips ":port" and a trailing dot, lower-cases. Handles IPv6 literals. */
export function hostWithoutPort(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end >= 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.lastIndexOf(":");
  if (colon >= 0) h = h.slice(0, colon);
  if (h.endsWith(".")) h = h.slice(0, -1);
  return h;
}

/**
 * Parses a Host header against the configured preview domains.
 * Returns null when the host is not a preview host (so callers can fall through).
 */
export function parsePreviewHost(host: string | undefined | null, domains: readonly string[]): PreviewTarget | null {
  if (!host) return null;
  const h = hostWithoutPort(host);
  for (const rawDomain of domains) {
    const domain = rawDomain.toLowerCase().replace(/^\./, "");
    const suffix = "." + domain;
    if (!h.endsWith(suffix)) continue;
    const label = h.slice(0, -suffix.length);
    if (label.includes(".")) continue;
    const m = LABEL_RE.exec(label);
    if (!m) continue;
    const port = Number(m[1]);
    const sandboxId = m[2]!;
    const token = m[3]!;
    if (portProblem(port) !== null) continue;
    if (!SANDBOX_ID_RE.test(sandboxId) || !LEGACY_TOKEN_RE.test(token)) continue;
    return { port, sandboxId, token };
  }
  return null;
}

/** The preview host label for a target, e.g. "8080-my-box-abcdefgh12345678". */
export function formatPreviewLabel(t: PreviewTarget): string {
  return `${t.port}-${t.sandboxId}-${t.token}`;
}

/**
 * The full preview URL. For localhost/127.0.0.1 hostnames the URL uses "localhost" and the
 * server's port: http://{port}-{id}-{token}.localhost:{serverPort}/
 */
export function formatPreviewUrl(t: PreviewTarget, hostname: string, opts: { serverPort?: number; protocol?: "http" | "https" } = {}): string {
  const label = formatPreviewLabel(t);
  const bare = hostWithoutPort(hostname);
  if (bare === "localhost" || bare === "127.0.0.1" || bare === "[::1]") {
    const port = opts.serverPort ?? (hostname.includes(":") ? Number(hostname.split(":").pop()) : undefined);
    return `http://${label}.localhost${port ? ":" + port : ""}/`;
  }
  const proto = opts.protocol ?? "https";
  const portPart = opts.serverPort && !((proto === "https" && opts.serverPort === 443) || (proto === "http" && opts.serverPort === 80)) ? `:${opts.serverPort}` : "";
  return `${proto}://${label}.${bare}${portPart}/`;
}
