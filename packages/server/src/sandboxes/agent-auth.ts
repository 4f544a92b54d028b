// Attaches a sandbox's agent key (SandboxEndpoint.agentKey) to a request for its agent. Every call
// the control plane makes to an agent goes through here or through api/forward.ts; requests to
// any other port of a sandbox (preview proxy, port probes) never carry the key.
import type { OutgoingHttpHeaders } from "node:http";
import { AGENT_KEY_HEADER } from "@atoll/protocol";
import type { SandboxEndpoint } from "../drivers/types.js";

export function agentHeaders(ep: SandboxEndpoint, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  if (ep.agentKey !== undefined) headers[AGENT_KEY_HEADER] = ep.agentKey;
  return headers;
}
