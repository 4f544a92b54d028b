// Validation of POST /v1/templates bodies. Everything is checked before any disk work starts.
import { AtollError, ErrorCode, SANDBOX_ID_RE, assertEnvSetBounds, portProblem, type TemplateRequest, type TemplateSource } from "@atoll/protocol";

export const SOURCE_TYPES: readonly TemplateSource["type"][] = ["oci-archive", "oci-layout", "rootfs"];
/** Built-in template name: the base image. */
export const BASE_TEMPLATE = "base";
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_STARTUP = 16 * 1024;

function invalid(why: string, context: Record<string, unknown> = {}): AtollError {
  return new AtollError(ErrorCode.INVALID_TEMPLATE, `Cannot register template: ${why}`, context);
}

export function assertTemplateName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !SANDBOX_ID_RE.test(name)) {
    throw invalid(`name ${JSON.stringify(String(name).slice(0, 80))} must be 1-63 chars of a-z, 0-9 and '-', starting and ending with a letter or digit`, { name: String(name).slice(0, 80) });
  }
}

/** Checks shape and values of a template request; returns a normalised copy. */
export function validateTemplateRequest(body: unknown): TemplateRequest {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw invalid("body must be an object");
  const b = body as Record<string, unknown>;
  assertTemplateName(b.name);
  if (b.name === BASE_TEMPLATE) throw invalid(`"${BASE_TEMPLATE}" is the built-in template`, { name: b.name });
  const src = b.source as Record<string, unknown> | undefined;
  if (!src || typeof src !== "object") throw invalid("source {type, path} is required");
  if (!SOURCE_TYPES.includes(src.type as TemplateSource["type"])) throw invalid(`source.type must be one of ${SOURCE_TYPES.join(", ")}`, { type: src.type });
  if (typeof src.path !== "string" || !src.path.startsWith("/") || src.path.includes("\0")) throw invalid("source.path must be an absolute path on the server's host", { path: src.path });
  const out: TemplateRequest = { name: b.name, source: { type: src.type as TemplateSource["type"], path: src.path } };

  if (b.env !== undefined) {
    if (!b.env || typeof b.env !== "object" || Array.isArray(b.env)) throw invalid("env must be an object of strings");
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(b.env)) {
      if (!ENV_KEY_RE.test(k)) throw invalid(`env name ${JSON.stringify(k.slice(0, 80))} is not a valid variable name`, { key: k.slice(0, 80) });
      if (typeof v !== "string" || v.includes("\0")) throw invalid(`env ${k} must be a string without NUL bytes`, { key: k });
      env[k] = v;
    }
    assertEnvSetBounds(env, "template env"); // a template's env goes into every sandbox's: same bounds (LIMIT_EXCEEDED)
    out.env = env;
  }
  if (b.workdir !== undefined) {
    if (typeof b.workdir !== "string" || !b.workdir.startsWith("/") || b.workdir.includes("\0") || b.workdir.split("/").includes("..")) {
      throw invalid("workdir must be an absolute path inside the sandbox", { workdir: b.workdir });
    }
    out.workdir = b.workdir;
  }
  if (b.ports !== undefined) {
    if (!Array.isArray(b.ports) || b.ports.length > 64) throw invalid("ports must be an array of at most 64 port numbers");
    for (const p of b.ports) {
      const why = portProblem(p);
      if (why) throw invalid(`port ${String(p)}: ${why}`, { port: p });
    }
    out.ports = [...new Set(b.ports as number[])];
  }
  if (b.startup !== undefined) {
    if (typeof b.startup !== "string" || b.startup.includes("\0") || b.startup.length > MAX_STARTUP) throw invalid(`startup must be a shell command string (at most ${MAX_STARTUP} chars)`);
    out.startup = b.startup;
  }
  return out;
}
