// POST/GET/DELETE /v1/mcp: the MCP server (streamable HTTP) on the control plane, behind the
// API key like every /v1 route. Its tools call this same control plane's /v1 API over loopback
// with the server's key, at the address the request came in on. @atoll/mcp (and the MCP SDK) is
// loaded on the first MCP request only.
import type { IncomingMessage } from "node:http";
import type { McpHttpHandler } from "@atoll/mcp";
import type { ApiRoute, ApiContext } from "../http.js";

function selfUrl(req: IncomingMessage): string {
  const addr = req.socket.localAddress ?? "127.0.0.1";
  const host = addr === "::" || addr === "0.0.0.0" ? "127.0.0.1" : addr.includes(":") ? `[${addr}]` : addr;
  return `http://${host}:${req.socket.localPort}`;
}

export function mcpRoutes(apiKey: string): ApiRoute[] {
  let handler: Promise<McpHttpHandler> | undefined;
  const handle = async ({ req, res }: ApiContext) => {
    handler ??= import("@atoll/mcp").then((m) => m.createMcpHttpHandler({ connection: (r) => ({ url: selfUrl(r), apiKey }) }));
    await (await handler).handle(req, res);
  };
  return ["POST", "GET", "DELETE"].map((method) => ({ method, path: "/v1/mcp", handler: handle }));
}
