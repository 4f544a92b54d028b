// One MCP server per MCP session: the official SDK's McpServer with Atoll's tools, bound to that
// session's sandbox choice. close() ends the session and destroys the sandboxes it created.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "@atoll/protocol";
import type { AtollClient } from "@atoll/sdk";
import { SessionSandboxes, type SandboxChoice } from "./sandboxes.js";
import { registerTools } from "./tools.js";

export interface AtollMcp {
  server: McpServer;
  sandboxes: SessionSandboxes;
  /** Closes the MCP server and cleans up the session's sandboxes (once). */
  close(): Promise<void>;
}

const INSTRUCTIONS =
  "Atoll gives you an isolated Linux sandbox (Debian, bash, git, curl, Python 3 with numpy/pandas/matplotlib, Node.js, Bun). " +
  "This session has its own sandbox, created on first use; files live under /workspace. Use run_command for shell commands, " +
  "run_code for Python/JavaScript with rich results and plots, read_file/write_file/list_files for files, start_process + " +
  "get_process_logs for servers, expose_port to get a public URL for a server, destroy_sandbox when done. " +
  "Failed calls return a tool error whose text starts with 'Error <CODE>:'.";

export function createAtollMcpServer(client: AtollClient, choice: SandboxChoice = {}): AtollMcp {
  const server = new McpServer({ name: "atoll", title: "Atoll sandboxes", version: VERSION }, { instructions: INSTRUCTIONS });
  const sandboxes = new SessionSandboxes(client, choice);
  registerTools(server, sandboxes);
  let closing: Promise<void> | undefined;
  return {
    server,
    sandboxes,
    close() {
      // Deferred so `closing` is set before server.close() re-enters through the transport's onclose.
      closing ??= Promise.resolve().then(async () => {
        await server.close().catch(() => undefined);
        await sandboxes.close();
      });
      return closing;
    },
  };
}
