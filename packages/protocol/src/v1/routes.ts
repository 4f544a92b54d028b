// Every /v1 route of the control plane, declared once as data: method, path pattern (protocol's
// RouteTable syntax), auth, parameters, request body and responses as JSON Schemas (./schemas.ts).
// The OpenAPI document is generated from this list (./openapi.ts) and a server test compares it
// with the server's real route table in both directions, so neither can gain a route alone.
import { Type, type TSchema } from "@sinclair/typebox";
import * as S from "./schemas.js";

export type V1Method = "GET" | "PUT" | "POST" | "PATCH" | "DELETE" | "*";

export interface V1Response {
  description: string;
  /** JSON body schema; absent for bodies that are not JSON (streams, proxied answers). */
  schema?: TSchema;
}

export interface V1Route {
  /** Stable name; the OpenAPI operationId. */
  id: string;
  /** "*": any method (the request is passed on as it is). */
  method: V1Method;
  /** RouteTable pattern: ":name" segments and an optional trailing "/*" (the rest of the path). */
  path: string;
  /** OpenAPI name of the trailing "*" parameter. */
  restName?: string;
  tag: "meta" | "sandboxes" | "lifecycle" | "agent" | "ports" | "snapshots" | "templates" | "mcp";
  summary: string;
  description?: string;
  /** false: no API key needed. Default true. */
  auth?: boolean;
  params?: Record<string, TSchema>;
  query?: Record<string, TSchema>;
  headers?: Record<string, TSchema>;
  body?: TSchema;
  responses: Record<number, V1Response>;
}

const SandboxId = Type.String({ pattern: "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$", description: "1-63 chars of a-z, 0-9 and '-', starting and ending with a letter or digit" });
const id = { id: SandboxId };
const info = (description: string) => ({ 200: { description, schema: S.SandboxInfo } });

export const V1_ROUTES: readonly V1Route[] = [
  { id: "health", method: "GET", path: "/v1/health", tag: "meta", auth: false, summary: "Liveness and version", responses: { 200: { description: "The server is up", schema: S.HealthResult } } },
  { id: "openapi", method: "GET", path: "/v1/openapi.json", tag: "meta", auth: false, summary: "This OpenAPI document", responses: { 200: { description: "OpenAPI 3.1 document", schema: Type.Object({ openapi: Type.String() }) } } },
  { id: "listSandboxes", method: "GET", path: "/v1/sandboxes", tag: "sandboxes", summary: "List sandboxes", responses: { 200: { description: "Every sandbox this server knows", schema: S.SandboxList } } },
  {
    id: "putSandbox",
    method: "PUT",
    path: "/v1/sandboxes/:id",
    tag: "sandboxes",
    summary: "Get or create a sandbox (and wake it)",
    description: "Creates the sandbox on first use (201); otherwise returns it (200), waking a sleeping one. Options apply only at creation.",
    params: id,
    body: S.CreateSandboxRequest,
    responses: { 200: { description: "Existing sandbox, running", schema: S.SandboxInfo }, 201: { description: "Created", schema: S.SandboxInfo } },
  },
  { id: "getSandbox", method: "GET", path: "/v1/sandboxes/:id", tag: "sandboxes", summary: "Get a sandbox", params: id, responses: info("The sandbox (not woken)") },
  { id: "updateSandbox", method: "PATCH", path: "/v1/sandboxes/:id", tag: "sandboxes", summary: "Change sleepAfter / keepAlive", params: id, body: S.UpdateSandboxRequest, responses: info("The updated sandbox") },
  { id: "destroySandbox", method: "DELETE", path: "/v1/sandboxes/:id", tag: "sandboxes", summary: "Destroy a sandbox and its files", params: id, responses: { 200: { description: "Destroyed", schema: S.DeletedSandbox } } },
  { id: "pauseSandbox", method: "POST", path: "/v1/sandboxes/:id/pause", tag: "lifecycle", summary: "Freeze every process (memory kept)", params: id, responses: info("Paused") },
  { id: "resumeSandbox", method: "POST", path: "/v1/sandboxes/:id/resume", tag: "lifecycle", summary: "Thaw a paused sandbox", params: id, responses: info("Running") },
  { id: "sleepSandbox", method: "POST", path: "/v1/sandboxes/:id/sleep", tag: "lifecycle", summary: "Stop now, keep files (the next call wakes it)", params: id, responses: info("Sleeping") },
  {
    id: "agent",
    method: "*",
    path: "/v1/sandboxes/:id/api/*",
    restName: "agentPath",
    tag: "agent",
    summary: "Call the sandbox's agent (/api/*)",
    description:
      "Forwarded to the agent's /api/<agentPath> inside the sandbox (created or woken first), streaming both ways: exec (POST api/execute, api/execute/stream as SSE), processes (api/process/*), files (api/read, api/write, api/files/raw, …), sessions, git, code contexts. The agent's routes and bodies are those of the Cloudflare container API plus Atoll's additions: see docs/agent.md, docs/files.md and docs/interpreter.md.",
    params: id,
    responses: { 200: { description: "The agent's answer (JSON, SSE or raw bytes), passed through" } },
  },
  { id: "exposePort", method: "POST", path: "/v1/sandboxes/:id/ports", tag: "ports", summary: "Expose a port as a preview URL", params: id, body: S.ExposePortRequest, responses: { 200: { description: "The preview URL", schema: S.ExposePortResult } } },
  {
    id: "listPorts",
    method: "GET",
    path: "/v1/sandboxes/:id/ports",
    tag: "ports",
    summary: "List exposed ports",
    params: id,
    query: { hostname: Type.String({ description: "Host the URLs are built on; default the Host of this request" }) },
    responses: { 200: { description: "Exposed ports", schema: S.PortList } },
  },
  {
    id: "unexposePort",
    method: "DELETE",
    path: "/v1/sandboxes/:id/ports/:port",
    tag: "ports",
    summary: "Remove a preview URL",
    params: { ...id, port: Type.Integer({ minimum: 1024, maximum: 65535 }) },
    responses: { 200: { description: "Unexposed", schema: S.UnexposedPort } },
  },
  {
    id: "proxy",
    method: "*",
    path: "/v1/sandboxes/:id/proxy/:port/*",
    restName: "path",
    tag: "ports",
    summary: "HTTP or WebSocket to a port inside the sandbox",
    description: "Passes the request (or WebSocket upgrade) to <sandbox>:<port>/<path> with the API key instead of a preview token; the port need not be exposed. An X-Atoll-Preview-Token header, when sent, must be that port's token.",
    params: { ...id, port: Type.Integer({ minimum: 1, maximum: 65535 }) },
    headers: { "x-atoll-preview-token": Type.String({ description: "Optional: checked against the exposed port's token" }) },
    responses: { 200: { description: "The sandbox server's answer, passed through" }, 101: { description: "WebSocket upgrade accepted by the sandbox server" } },
  },
  { id: "snapshotSandbox", method: "POST", path: "/v1/sandboxes/:id/snapshots", tag: "snapshots", summary: "Snapshot a sandbox's files", params: id, body: S.SnapshotRequest, responses: { 201: { description: "Taken", schema: S.SnapshotInfo } } },
  { id: "listSnapshots", method: "GET", path: "/v1/snapshots", tag: "snapshots", summary: "List snapshots", responses: { 200: { description: "Every snapshot", schema: S.SnapshotList } } },
  { id: "deleteSnapshot", method: "DELETE", path: "/v1/snapshots/:name", tag: "snapshots", summary: "Delete a snapshot", params: { name: Type.String() }, responses: { 200: { description: "Deleted", schema: S.DeletedSnapshot } } },
  ...(["POST", "GET", "DELETE"] as const).map((method): V1Route => {
    const responses: Record<number, V1Response> = {
      200: { description: "JSON-RPC answer (application/json) or event stream (text/event-stream)" },
      400: { description: "Not a valid MCP request (JSON-RPC error body)" },
      404: { description: "Unknown or closed session (JSON-RPC error body)" },
    };
    if (method === "POST") responses[202] = { description: "Accepted (notifications and responses)" };
    return {
      id: `mcp${method[0]}${method.slice(1).toLowerCase()}`,
      method,
      path: "/v1/mcp",
      tag: "mcp",
      summary: { POST: "MCP: send JSON-RPC messages (an initialize POST opens a session)", GET: "MCP: server-to-client event stream of a session", DELETE: "MCP: close a session" }[method],
      description:
        "Model Context Protocol, streamable HTTP transport (docs/mcp.md): JSON-RPC 2.0 bodies, answers as JSON or text/event-stream. After initialize, send the Mcp-Session-Id header the server returned. Each session gets its own sandbox, destroyed when the session closes or after 30 min without requests.",
      headers: { "mcp-session-id": Type.String({ description: "Session id from the initialize answer (every call but initialize)" }) },
      responses,
    };
  }),
  { id: "addTemplate", method: "POST", path: "/v1/templates", tag: "templates", summary: "Register a template (OCI archive, OCI layout or rootfs directory on the server's host)", body: S.TemplateRequest, responses: { 201: { description: "Registered", schema: S.TemplateInfo } } },
  { id: "listTemplates", method: "GET", path: "/v1/templates", tag: "templates", summary: "List templates", responses: { 200: { description: "Every template, the built-in base first", schema: S.TemplateList } } },
  { id: "deleteTemplate", method: "DELETE", path: "/v1/templates/:name", tag: "templates", summary: "Delete a template (refused while sandboxes use it)", params: { name: Type.String() }, responses: { 200: { description: "Deleted", schema: S.DeletedTemplate } } },
];
