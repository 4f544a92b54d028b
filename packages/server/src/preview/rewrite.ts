// Builds the request head sent to a sandbox: same method, target and fields as the client's,
// minus what must never reach a sandbox or be trusted from a client, plus the forwarding fields
// the front door vouches for.
//
// Dropped: inbound X-Forwarded-*, Forwarded, X-Real-IP (clients cannot forge them), X-Atoll-*
// (control-plane fields, e.g. the preview token), and any Authorization or Proxy-Authorization
// field that carries the Atoll API key anywhere in its value ("Bearer <key>", a comma-separated
// list with the key in it, a quoted key); any other Authorization is the app's own and passes. Host becomes localhost:<port>,
// like Cloudflare's proxy does (dev servers such as Vite accept it); the public host is in
// X-Forwarded-Host.
import type { RequestHead } from "./head.js";
import { secretEquals } from "../ports/tokens.js";

/** Whether a client header may be forwarded to a sandbox (lower-case name). */
export function keepHeader(lower: string, value: string, apiKey: string): boolean {
  if (DROP.has(lower) || lower.startsWith("x-atoll-")) return false;
  if (lower === "authorization" || lower === "proxy-authorization") return !carriesApiKey(value, apiKey);
  return true;
}

/**
 * True when one of the credentials in an Authorization-style value is the API key: the value is
 * split at list commas and scheme/parameter spaces, quotes are removed, and every piece is compared
 * in constant time (so "Basic x, Bearer <key>" and "Bearer <key>, Basic x" both count).
 */
export function carriesApiKey(value: string, apiKey: string): boolean {
  if (apiKey.length === 0) return false;
  let found = false;
  for (const part of value.split(/[\s,]+/)) {
    const v = part.replace(/^["']+|["']+$/g, "");
    if (v.length > 0 && secretEquals(v, apiKey)) found = true;
  }
  return found;
}

const DROP = new Set(["host", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-prefix", "forwarded", "x-real-ip"]);

export interface RewriteOptions {
  /** Request target to send (origin-form), e.g. the path after /v1/sandboxes/:id/proxy/:port. */
  target: string;
  port: number;
  clientIp: string;
  /** A trusted caller's X-Forwarded-For (only from /proxy callers); the client IP is appended. */
  forwardedFor?: string;
  /** The Host the client used (goes to X-Forwarded-Host). */
  publicHost: string;
  proto: "http" | "https";
  apiKey: string;
}

/** True when an Authorization value carries the control plane's API key. */
export function isAtollAuthorization(value: string, apiKey: string): boolean {
  const m = /^bearer[ \t]+(.*)$/i.exec(value);
  return m !== null && apiKey.length > 0 && secretEquals(m[1]!.trim(), apiKey);
}

export function rewriteHead(h: RequestHead, o: RewriteOptions): Buffer {
  let out = `${h.method} ${o.target} HTTP/1.${h.minor}\r\nHost: localhost:${o.port}\r\n`;
  for (let i = 0; i < h.names.length; i++) {
    if (!keepHeader(h.lower[i]!, h.values[i]!, o.apiKey)) continue;
    out += `${h.names[i]}: ${h.values[i]}\r\n`;
  }
  out += `X-Forwarded-For: ${o.forwardedFor ? `${o.forwardedFor}, ${o.clientIp}` : o.clientIp}\r\nX-Forwarded-Host: ${o.publicHost}\r\nX-Forwarded-Proto: ${o.proto}\r\n\r\n`;
  return Buffer.from(out, "latin1");
}

/** The origin-form of a request target: absolute-form "http://h/p?q" becomes "/p?q". */
export function originForm(target: string): string {
  if (target.startsWith("/") || target === "*") return target;
  const m = /^https?:\/\/[^/?#]*(.*)$/i.exec(target);
  if (!m) return target;
  return m[1] === "" ? "/" : m[1]!.startsWith("/") ? m[1]! : "/" + m[1];
}

/** The authority of an absolute-form target (it overrides Host, RFC 9112 §3.2.2). */
export function targetAuthority(target: string): string | undefined {
  const m = /^https?:\/\/([^/?#]*)/i.exec(target);
  return m ? m[1] : undefined;
}
