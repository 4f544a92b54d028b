// Optional readiness for templates that declare ports: a sandbox is "ready" when its agent
// answers, but a template's startup server starts in the background at the same time. When the
// template lists ports, creation also waits (bounded) until the first one accepts TCP connections,
// so the server answers as soon as getSandbox/PUT returns. A server that never listens only
// costs the wait: creation still succeeds (the agent is up; check the startup's output).
import { tcpProbe } from "../ports/probe.js";

/**
 * Resolves with the ms waited once host:ports[0] accepts a connection, or null after timeoutMs
 * (config.templatePortWaitMs; at once when there is no port). Polls every 25 ms: nothing outside the sandbox can be told
 * when a port starts listening.
 */
export async function waitForFirstPort(host: string, ports: number[] | undefined, timeoutMs: number): Promise<number | null> {
  const port = ports?.[0];
  if (!port || timeoutMs <= 0) return null;
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await tcpProbe(host, port, Math.min(500, timeoutMs))) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 25));
  }
  return null;
}
