// Decides what the front door does with a request head: forward it to a sandbox port (preview
// host or the /v1/sandboxes/:id/proxy/:port/* API route), answer an error, or pass the
// connection to the control plane's HTTP server. Pure apart from the token lookup.
import { ErrorCode, PREVIEW_TOKEN_HEADER, SANDBOX_ID_RE, parsePreviewHost, portProblem, type PreviewTarget } from "@atoll/protocol";
import type { RequestHead } from "./head.js";
import { isAtollAuthorization, originForm, targetAuthority } from "./rewrite.js";

export interface Authorizer {
  authorize(sandboxId: string, port: number, token: string): boolean;
}

export interface RouteConfig {
  domains: readonly string[];
  apiKey: string;
  ports: Authorizer;
}

export type Route =
  | { kind: "pass" }
  | { kind: "error"; code: ErrorCode; message: string; context?: Record<string, unknown> }
  | {
      kind: "forward";
      sandboxId: string;
      port: number;
      target: string;
      publicHost: string;
      via: "preview" | "proxy";
      /** /proxy callers hold the API key, so their X-Forwarded-* (e.g. from proxyToSandbox) are kept. */
      forwardedFor?: string;
      proto?: "http" | "https";
    };

const PROXY_RE = /^\/v1\/sandboxes\/([^/?]+)\/proxy\/([^/?]+)(\/[^?]*)?(\?.*)?$/;

function header(h: RequestHead, lower: string): string | undefined {
  for (let i = 0; i < h.lower.length; i++) if (h.lower[i] === lower) return h.values[i];
  return undefined;
}

const invalidToken = (sandboxId: string, port: number): Route => ({
  kind: "error",
  code: ErrorCode.INVALID_TOKEN,
  message: "Cannot open preview: invalid token or port not exposed",
  context: { sandboxId, port },
});

/**
 * parsePreviewHost, memoized per domain list: a keep-alive connection sends the same Host on
 * every request. Only the parse is cached; the token is still checked on every request.
 * Bounded: cleared when full, so hosts sent by clients cannot grow it without limit.
 */
const previewCache = new WeakMap<readonly string[], Map<string, PreviewTarget | null>>();
const PREVIEW_CACHE_MAX = 4096;
function previewTarget(host: string | undefined, domains: readonly string[]): PreviewTarget | null {
  if (!host) return null;
  let m = previewCache.get(domains);
  if (!m) previewCache.set(domains, (m = new Map()));
  let t = m.get(host);
  if (t === undefined) {
    t = parsePreviewHost(host, domains);
    if (m.size >= PREVIEW_CACHE_MAX) m.clear();
    m.set(host, t);
  }
  return t;
}

export function routeRequest(h: RequestHead, cfg: RouteConfig): Route {
  // Origin-form targets (the usual case) carry no authority: skip the regex.
  const host = h.target.charCodeAt(0) === 47 ? h.host : (targetAuthority(h.target) ?? h.host);
  const preview = previewTarget(host, cfg.domains);
  const target = originForm(h.target);
  if (preview) {
    if (!cfg.ports.authorize(preview.sandboxId, preview.port, preview.token)) return invalidToken(preview.sandboxId, preview.port);
    return { kind: "forward", sandboxId: preview.sandboxId, port: preview.port, target, publicHost: host!, via: "preview" };
  }
  const m = PROXY_RE.exec(target);
  if (!m) return { kind: "pass" };
  const auth = header(h, "authorization");
  if (auth === undefined || !isAtollAuthorization(auth, cfg.apiKey)) {
    return { kind: "error", code: ErrorCode.UNAUTHORIZED, message: "Cannot authorize request: missing or wrong API key (Authorization: Bearer <key>)" };
  }
  let sandboxId: string;
  try {
    sandboxId = decodeURIComponent(m[1]!);
  } catch {
    sandboxId = m[1]!;
  }
  if (!SANDBOX_ID_RE.test(sandboxId)) {
    return { kind: "error", code: ErrorCode.INVALID_SANDBOX_ID, message: `Cannot use sandbox id ${JSON.stringify(sandboxId.slice(0, 80))}: ids are 1-63 chars of a-z, 0-9 and '-'` };
  }
  const port = /^\d{1,5}$/.test(m[2]!) ? Number(m[2]) : NaN;
  const why = portProblem(port);
  if (why) return { kind: "error", code: ErrorCode.INVALID_PORT, message: `Cannot proxy to port ${m[2]}: ${why}`, context: { port: m[2] } };
  const token = header(h, PREVIEW_TOKEN_HEADER);
  if (token !== undefined && !cfg.ports.authorize(sandboxId, port, token)) return invalidToken(sandboxId, port);
  const fwdProto = header(h, "x-forwarded-proto")?.toLowerCase();
  return {
    kind: "forward",
    sandboxId,
    port,
    target: (m[3] ?? "/") + (m[4] ?? ""),
    publicHost: header(h, "x-forwarded-host") ?? h.host ?? "",
    via: "proxy",
    forwardedFor: header(h, "x-forwarded-for"),
    proto: fwdProto === "https" || fwdProto === "http" ? fwdProto : undefined,
  };
}
