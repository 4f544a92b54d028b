// /v1/sandboxes/:id/ports: expose, list and unexpose sandbox ports as preview URLs.
import { AtollError, ErrorCode, hostnameProblem, type ExposePortRequest } from "@atoll/protocol";
import type { IncomingMessage } from "node:http";
import { jsonBody, reply, type ApiRoute } from "../http.js";
import type { PortService } from "../ports/service.js";

/**
 * The host a preview URL is built on: the caller's choice, else the Host it used to reach us.
 * Both are checked the same way (hostnameProblem): a Host header like "a.com@evil.example" must
 * not end up inside a URL we hand out.
 */
function hostnameFor(req: IncomingMessage, given: unknown): string {
  const from = given !== undefined ? "hostname" : "Host header";
  const host = given !== undefined ? given : (req.headers.host ?? "localhost");
  const why = hostnameProblem(host);
  if (why) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot build preview URL from the ${from}: ${why}`, { [from === "hostname" ? "hostname" : "host"]: String(host).slice(0, 100) });
  return host as string;
}

/** "8080" → 8080; anything else stays as given so assertExposablePort reports INVALID_PORT. */
function portParam(s: string): unknown {
  return /^\d{1,6}$/.test(s) ? Number(s) : s;
}

export function portRoutes(ports: PortService, maxJsonBody: number): ApiRoute[] {
  return [
    {
      method: "POST",
      path: "/v1/sandboxes/:id/ports",
      handler: async ({ req, res, params }) => {
        const body = await jsonBody<Partial<ExposePortRequest>>(req, maxJsonBody);
        const result = ports.expose(params.id!, body.port, { name: body.name, hostname: hostnameFor(req, body.hostname) });
        reply(res, 200, result);
      },
    },
    {
      method: "GET",
      path: "/v1/sandboxes/:id/ports",
      handler: async ({ req, res, params, url }) => {
        const list = await ports.list(params.id!, hostnameFor(req, url.searchParams.get("hostname") ?? undefined));
        reply(res, 200, { ports: list });
      },
    },
    {
      method: "DELETE",
      path: "/v1/sandboxes/:id/ports/:port",
      handler: ({ res, params }) => {
        const port = portParam(params.port!);
        ports.unexpose(params.id!, port);
        reply(res, 200, { success: true, port });
      },
    },
  ];
}
