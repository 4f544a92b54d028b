// Who may call the agent: only the control plane. Every request must carry the sandbox's secret
// (AGENT_KEY_HEADER); the agent holds only its SHA-256, read once from AGENT_KEY_VERIFIER_ENV and
// then deleted from process.env so no process the agent starts inherits it. A request carrying an
// Origin header comes from a browser (the control plane strips Origin), so it is refused even with
// the right key. Why and what remains (root in the sandbox can read its own agent's memory): see
// docs/security.md, "Agent access".
//
// ATOLL_AGENT_AUTH=off is a development switch for the agent's own tests, which run it on
// loopback without a control plane. It only applies when no verifier is configured; without
// either, the agent refuses every request (fails closed). Drivers always set a verifier.
import type { IncomingMessage } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import { AGENT_KEY_HEADER, AGENT_KEY_VERIFIER_ENV, AtollError, ErrorCode } from "@atoll/protocol";

export type AgentAuth =
  | { mode: "key"; verifier: Buffer }
  | { mode: "off" }
  /** Neither a verifier nor the dev switch: every request is refused. */
  | { mode: "unconfigured" };

/** Reads (and removes) the agent's auth settings from the environment. */
export function authFromEnv(env: NodeJS.ProcessEnv = process.env): AgentAuth {
  const hex = env[AGENT_KEY_VERIFIER_ENV];
  const off = env.ATOLL_AGENT_AUTH === "off";
  delete env[AGENT_KEY_VERIFIER_ENV];
  delete env.ATOLL_AGENT_AUTH;
  if (hex !== undefined && /^[0-9a-f]{64}$/.test(hex)) return { mode: "key", verifier: Buffer.from(hex, "hex") };
  return off ? { mode: "off" } : { mode: "unconfigured" };
}

/** SHA-256 of a key, hex: what a driver puts in AGENT_KEY_VERIFIER_ENV. */
export function keyVerifier(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Throws the coded refusal when `req` may not use the agent. */
export function checkCaller(req: IncomingMessage, auth: AgentAuth): void {
  if (auth.mode === "unconfigured") {
    throw new AtollError(ErrorCode.AGENT_UNAUTHORIZED, `Cannot accept request: the agent has no key configured (${AGENT_KEY_VERIFIER_ENV})`);
  }
  if (auth.mode === "key") {
    const key = req.headers[AGENT_KEY_HEADER];
    // Constant time: both sides are 32-byte digests whatever the caller sent.
    const ok = typeof key === "string" && timingSafeEqual(createHash("sha256").update(key, "utf8").digest(), auth.verifier);
    if (!ok) throw new AtollError(ErrorCode.AGENT_UNAUTHORIZED, `Cannot accept request: missing or wrong agent key (${AGENT_KEY_HEADER})`);
  }
  if (req.headers.origin !== undefined) {
    throw new AtollError(ErrorCode.ORIGIN_NOT_ALLOWED, "Cannot accept request: it carries an Origin header (browsers may not call the agent)");
  }
}
