// @atoll/mcp — Atoll sandboxes as Model Context Protocol tools, on the official MCP SDK:
// runStdio() for `atoll mcp`, createMcpHttpHandler() for the control plane's /v1/mcp.
export { createAtollMcpServer, type AtollMcp } from "./server.js";
export { runStdio } from "./stdio.js";
export { createMcpHttpHandler, type McpHttpHandler, type McpHttpOptions } from "./http.js";
export { SessionSandboxes, type SandboxChoice } from "./sandboxes.js";
export { toolError } from "./results.js";
