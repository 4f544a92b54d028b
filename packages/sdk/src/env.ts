// setEnvVars: POST /api/env (Atoll) sets variables in the session's shell; the
// `export` fallback keeps working against agents that only speak the Cloudflare API.
import { ErrorCode } from "@atoll/protocol";
import { withSession, type Ctx } from "./core.js";
import { SandboxError, sdkError } from "./errors.js";
import { exec } from "./exec.js";
import { shq } from "./wait-port.js";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export async function setEnvVars(ctx: Ctx, envVars: Record<string, string | null>): Promise<void> {
  for (const [k, v] of Object.entries(envVars)) {
    if (!NAME_RE.test(k)) throw sdkError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variable ${JSON.stringify(k)}: names are letters, digits and '_', not starting with a digit`, { name: k });
    if (v !== null && typeof v !== "string") throw sdkError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variable ${k}: value must be a string (or null to unset)`, { name: k });
    if (typeof v === "string" && v.includes("\0")) throw sdkError(ErrorCode.VALIDATION_FAILED, `Cannot set environment variable ${k}: value contains a NUL byte`, { name: k });
  }
  try {
    await ctx.core.apiJson("/env", { method: "POST", body: withSession(ctx, { envVars }), what: "set environment variables" });
  } catch (e) {
    if (!(e instanceof SandboxError) || (e.code !== ErrorCode.NOT_FOUND && e.code !== ErrorCode.METHOD_NOT_ALLOWED)) throw e;
    const script = Object.entries(envVars).map(([k, v]) => (v === null ? `unset ${k}` : `export ${k}=${shq(v)}`)).join("; ");
    const r = await exec(ctx, script);
    if (r.exitCode !== 0) throw sdkError(ErrorCode.COMMAND_EXECUTION_ERROR, `Cannot set environment variables: ${r.stderr.trim() || `exit code ${r.exitCode}`}`, {});
  }
}
