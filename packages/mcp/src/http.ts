// MCP over streamable HTTP, mounted by the control plane at /v1/mcp (so the API key guards it).
// Stateful: an `initialize` POST opens a session (Mcp-Session-Id header) with its own McpServer
// and sandbox; later POST/GET/DELETE calls carry the header. Sessions idle longer than `idleMs`
// are closed (and their sandboxes destroyed) by a sweeper.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { createClient, type ClientOptions } from "@atoll/sdk";
import type { SandboxChoice } from "./sandboxes.js";
import { createAtollMcpServer, type AtollMcp } from "./server.js";

export interface McpHttpOptions extends SandboxChoice {
  /** Where the tools' client connects (url, apiKey); given the request so the control plane can use the address it was reached on. */
  connection: (req: IncomingMessage) => ClientOptions;
  /** Close sessions without a request for this long (default 30 min). */
  idleMs?: number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  mcp: AtollMcp;
  lastUsed: number;
}

export interface McpHttpHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Open sessions (for tests and metrics). */
  readonly sessions: number;
  close(): Promise<void>;
}

function rpcError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }));
}

export function createMcpHttpHandler(opts: McpHttpOptions): McpHttpHandler {
  const sessions = new Map<string, Session>();
  const idleMs = opts.idleMs ?? 30 * 60_000;
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const s of sessions.values()) if (now - s.lastUsed > idleMs) void s.transport.close();
  }, Math.min(idleMs, 60_000));
  sweeper.unref();

  return {
    get sessions() {
      return sessions.size;
    },
    async handle(req, res) {
      const sid = req.headers["mcp-session-id"];
      if (typeof sid === "string") {
        const s = sessions.get(sid);
        if (!s) return rpcError(res, 404, "Session not found: start a new one with initialize");
        s.lastUsed = Date.now();
        return s.transport.handleRequest(req, res);
      }
      if (req.method !== "POST") return rpcError(res, 400, "No Mcp-Session-Id header: open a session with an initialize POST first");
      const mcp = createAtollMcpServer(createClient(opts.connection(req)), opts);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, { transport, mcp, lastUsed: Date.now() }),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        void mcp.close();
      };
      await mcp.server.connect(transport);
      await transport.handleRequest(req, res);
      if (!transport.sessionId) await mcp.close(); // not an initialize: nothing to keep
    },
    async close() {
      clearInterval(sweeper);
      await Promise.allSettled([...sessions.values()].map((s) => s.transport.close()));
    },
  };
}
