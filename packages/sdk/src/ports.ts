// Preview URLs: /v1/sandboxes/:id/ports on the control plane (it owns tokens and the router).
import type { ExposePortResult, ExposedPortInfo } from "@atoll/protocol";
import type { SandboxCore } from "./core.js";

export type { ExposePortResult, ExposedPortInfo };

export interface ExposePortOptions {
  /** Public host name the URL is built on, e.g. "preview.example.com" or "localhost:8787" (default: the server's). */
  hostname?: string;
  name?: string;
}

export function exposePort(core: SandboxCore, port: number, options: ExposePortOptions = {}): Promise<ExposePortResult> {
  const body = { port, ...(options.name && { name: options.name }), ...(options.hostname && { hostname: options.hostname }) };
  return core.v1Json("/ports", { method: "POST", body, what: `expose port ${port}` });
}

export async function unexposePort(core: SandboxCore, port: number): Promise<void> {
  await core.v1Json(`/ports/${encodeURIComponent(String(port))}`, { method: "DELETE", what: `unexpose port ${port}` });
}

export async function getExposedPorts(core: SandboxCore, hostname?: string): Promise<ExposedPortInfo[]> {
  const q = hostname ? `?hostname=${encodeURIComponent(hostname)}` : "";
  return (await core.v1Json<{ ports: ExposedPortInfo[] }>(`/ports${q}`, { what: "list exposed ports" })).ports;
}
