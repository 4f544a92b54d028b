// `atoll mcp`: the MCP server over stdio for local clients (Claude Desktop, Cursor, Codex, …).
// stdout carries JSON-RPC only; diagnostics go to stderr. Ends (cleaning up the session's sandbox)
// when the client closes stdin or on SIGINT/SIGTERM.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { AtollClient } from "@atoll/sdk";
import type { SandboxChoice } from "./sandboxes.js";
import { createAtollMcpServer } from "./server.js";

export async function runStdio(client: AtollClient, choice: SandboxChoice = {}): Promise<void> {
  const mcp = createAtollMcpServer(client, choice);
  const transport = new StdioServerTransport();
  const done = new Promise<void>((resolve) => {
    const end = () => void mcp.close().finally(resolve);
    transport.onclose = end;
    process.stdin.once("end", end);
    process.once("SIGINT", end);
    process.once("SIGTERM", end);
  });
  await mcp.server.connect(transport);
  process.stderr.write(`atoll mcp: serving ${client.url} over stdio (sandbox: ${choice.sandbox ?? `${mcp.sandboxes.current}, one per session`})\n`);
  await done;
}
