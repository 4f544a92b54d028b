// Port bookkeeping (Cloudflare compatible): POST /api/expose-port, GET /api/exposed-ports,
// DELETE /api/exposed-ports/:port. The agent only records; the control plane owns real exposure
// and tokens. "status" tells whether something listens on the port (from /proc/net/tcp{,6}).
import { readFileSync } from "node:fs";
import { AtollError, ErrorCode, assertExposablePort, type ExposedPortRecord } from "@atoll/protocol";
import { nowIso, readJson, sendJson, type Route } from "../http.js";

const exposed = new Map<number, { name?: string; exposedAt: string }>();

/** Ports with a socket in LISTEN state, any address, IPv4 or IPv6. */
export function listeningPorts(): Set<number> {
  const out = new Set<number>();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "latin1");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== "0A") continue;
      const port = parseInt(cols[1]!.split(":").pop()!, 16);
      if (Number.isFinite(port)) out.add(port);
    }
  }
  return out;
}

function record(port: number, listening: Set<number>): ExposedPortRecord {
  const e = exposed.get(port)!;
  return { port, name: e.name, url: `http://localhost:${port}`, status: listening.has(port) ? "active" : "inactive", exposedAt: e.exposedAt };
}

function portParam(raw: string | undefined): number {
  const n = Number(raw);
  if (!raw || !Number.isInteger(n)) throw new AtollError(ErrorCode.INVALID_PORT_NUMBER, `Cannot use port ${JSON.stringify(String(raw).slice(0, 20))}: not an integer`, { port: String(raw).slice(0, 20) });
  return n;
}

export function portRoutes(): Route[] {
  return [
    {
      method: "POST",
      path: "/api/expose-port",
      handler: async (req, res) => {
        const body = await readJson(req);
        const port = body.port;
        assertExposablePort(port);
        if (body.name !== undefined && body.name !== null && typeof body.name !== "string") {
          throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot expose port ${port}: "name" must be a string`, { field: "name" });
        }
        if (exposed.has(port)) throw new AtollError(ErrorCode.PORT_ALREADY_EXPOSED, `Cannot expose port ${port}: it is already exposed`, { port });
        exposed.set(port, { name: (body.name as string | undefined) ?? undefined, exposedAt: nowIso() });
        const r = record(port, listeningPorts());
        sendJson(res, 200, { success: true, ...r, timestamp: nowIso() });
      },
    },
    {
      method: "GET",
      path: "/api/exposed-ports",
      handler: (_q, res) => {
        const listening = listeningPorts();
        const ports = [...exposed.keys()].sort((a, b) => a - b).map((p) => record(p, listening));
        sendJson(res, 200, { success: true, ports, count: ports.length, timestamp: nowIso() });
      },
    },
    {
      method: "DELETE",
      path: "/api/exposed-ports/:port",
      handler: (_q, res, p) => {
        const port = portParam(p.port);
        if (!exposed.delete(port)) throw new AtollError(ErrorCode.PORT_NOT_EXPOSED, `Cannot unexpose port ${port}: it is not exposed`, { port });
        sendJson(res, 200, { success: true, port, timestamp: nowIso() });
      },
    },
  ];
}
