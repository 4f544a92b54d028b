// Removes credentials from git URLs and from any text that may echo them (stderr, messages).

/** Secrets found in a URL's userinfo: the raw and decoded password/user forms. */
export function secretsOf(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
  if (!m || !m[1]) return [];
  const userinfo = m[1];
  const out = new Set<string>([userinfo]);
  const [user, pass] = userinfo.split(":", 2) as [string, string | undefined];
  for (const part of [pass, pass === undefined ? user : undefined]) {
    if (!part) continue;
    out.add(part);
    try {
      out.add(decodeURIComponent(part));
    } catch {
      /* not percent-encoded */
    }
  }
  return [...out].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** Replaces the userinfo of every scheme://user:pass@ URL in text with "******". */
export function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s"'<>]+@/gi, "$1******@");
}

/** Redacts URL credentials, then any literal occurrence of the given secrets. */
export function redact(text: string, secrets: string[] = []): string {
  let out = redactUrls(text);
  for (const s of secrets) out = out.split(s).join("******");
  return out;
}

/** Deep-redacts every string in a value (for error contexts and logs). */
export function redactDeep<T>(v: T, secrets: string[] = []): T {
  if (typeof v === "string") return redact(v, secrets) as T;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, secrets)) as T;
  if (v && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = redactDeep(x, secrets);
    return o as T;
  }
  return v;
}
