// The MCP tools: what an LLM can do with Atoll sandboxes. Each has a JSON schema (from zod) and
// a description written for a model; each acts through the TypeScript SDK, i.e. the control
// plane's /v1 API, on the session's sandbox unless `sandbox_id` names another.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ErrorCode } from "@atoll/protocol";
import { errorFromResponse } from "@atoll/sdk";
import { z } from "zod";
import { clip, safe, text } from "./results.js";
import type { SessionSandboxes } from "./sandboxes.js";

const sandboxId = z
  .string()
  .optional()
  .describe("Sandbox to act on (1-63 chars of a-z, 0-9, '-'). Omit to use this session's sandbox, created on first use.");
const env = z.record(z.string()).optional().describe("Extra environment variables for this command only");
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

export function registerTools(server: McpServer, boxes: SessionSandboxes): void {
  server.registerTool(
    "create_sandbox",
    {
      title: "Create or get a sandbox",
      description:
        "Creates an isolated Linux sandbox (Debian with bash, git, curl, Python 3 with numpy/pandas/matplotlib, Node.js, Bun) or returns it when it exists, and makes it this session's sandbox. Other tools create this session's sandbox on first use, so call this only to pick an id, a template or environment variables.",
      inputSchema: {
        sandbox_id: sandboxId,
        template: z.string().optional().describe("Template name (default: the built-in base image)"),
        env_vars: z.record(z.string()).optional().describe("Environment variables for every process in a new sandbox"),
      },
    },
    safe(async (a) => {
      const create = { ...(a.template && { template: a.template }), ...(a.env_vars && { envVars: a.env_vars }) };
      const info = await boxes.get(a.sandbox_id, create).ready();
      boxes.use(info.id, info.created === true);
      return text(`Sandbox ${info.id} is ${info.status}${info.created ? " (created now)" : ""}. Working directory: /workspace.`, { sandbox: info });
    }),
  );

  server.registerTool(
    "get_sandbox",
    {
      title: "Describe a sandbox",
      description: "Returns a sandbox's status (running, sleeping, paused), template, limits and creation time. Does not create it.",
      inputSchema: { sandbox_id: sandboxId },
      annotations: { readOnlyHint: true },
    },
    safe(async (a) => {
      const info = await boxes.client.getSandboxInfo(a.sandbox_id ?? boxes.current);
      return text(JSON.stringify(info, null, 2), { sandbox: info });
    }),
  );

  server.registerTool(
    "run_command",
    {
      title: "Run a shell command",
      description:
        "Runs a bash command in the sandbox and returns its exit code, stdout and stderr. The shell persists between calls (cd and export stick). Use start_process instead for servers and other long-running programs.",
      inputSchema: {
        command: z.string().min(1).describe("The bash command line, e.g. \"pip list | head\" or \"cd app && npm test\""),
        timeout_seconds: z.number().positive().max(3600).optional().describe("Kill the command after this many seconds (default 120)"),
        cwd: z.string().optional().describe("Working directory for this command only (default: the shell's, /workspace at first)"),
        env,
        sandbox_id: sandboxId,
      },
    },
    safe(async (a) => {
      const r = await boxes.get(a.sandbox_id).exec(a.command, { timeout: (a.timeout_seconds ?? 120) * 1000, ...(a.cwd && { cwd: a.cwd }), ...(a.env && { env: a.env }) });
      const head = r.timedOut ? `timed out after ${a.timeout_seconds ?? 120} s (exit code ${r.exitCode})` : `exit code ${r.exitCode}`;
      return text(`${head}\n--- stdout ---\n${clip(r.stdout)}\n--- stderr ---\n${clip(r.stderr)}`, { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut ?? false });
    }),
  );

  server.registerTool(
    "write_file",
    {
      title: "Write a file",
      description: "Writes a file in the sandbox (parent directories are created). Text by default; pass encoding \"base64\" for binary content.",
      inputSchema: {
        path: z.string().min(1).describe("Absolute path, or relative to /workspace"),
        content: z.string().describe("The file's content"),
        encoding: z.enum(["utf-8", "base64"]).optional().describe("How content is encoded (default utf-8)"),
        sandbox_id: sandboxId,
      },
    },
    safe(async (a) => {
      const sb = boxes.get(a.sandbox_id);
      const content = a.encoding === "base64" ? Uint8Array.from(Buffer.from(a.content, "base64")) : a.content;
      await sb.writeFile(a.path, content);
      return text(`Wrote ${typeof content === "string" ? Buffer.byteLength(content) : content.length} bytes to ${a.path}`);
    }),
  );

  server.registerTool(
    "read_file",
    {
      title: "Read a file",
      description: "Reads a file from the sandbox. Text comes back as text, PNG/JPEG/GIF/WebP images as images, other binary files as base64.",
      inputSchema: { path: z.string().min(1).describe("Absolute path, or relative to /workspace"), sandbox_id: sandboxId },
      annotations: { readOnlyHint: true },
    },
    safe(async (a) => {
      const f = await boxes.get(a.sandbox_id).readFile(a.path);
      if (f.encoding === "base64" && IMAGE_TYPES.has(f.mimeType)) {
        return { content: [{ type: "image", data: f.content, mimeType: f.mimeType }, { type: "text", text: `${a.path}: ${f.mimeType}, ${f.size} bytes` }] };
      }
      if (f.encoding === "base64") return text(`${a.path} is binary (${f.mimeType}, ${f.size} bytes); base64:\n${clip(f.content, 100_000)}`);
      return text(clip(f.content, 100_000));
    }),
  );

  server.registerTool(
    "list_files",
    {
      title: "List files",
      description: "Lists a directory of the sandbox: one line per entry with its type (d, f, l), size in bytes and path.",
      inputSchema: {
        path: z.string().optional().describe("Directory to list (default /workspace)"),
        recursive: z.boolean().optional().describe("Include subdirectories (default false)"),
        sandbox_id: sandboxId,
      },
      annotations: { readOnlyHint: true },
    },
    safe(async (a) => {
      const r = await boxes.get(a.sandbox_id).listFiles(a.path ?? "/workspace", { recursive: a.recursive ?? false });
      const lines = r.files.map((f) => `${f.type === "directory" ? "d" : f.type === "symlink" ? "l" : "f"} ${String(f.size).padStart(10)} ${f.relativePath}${f.type === "directory" ? "/" : ""}`);
      return text(lines.length ? clip(lines.join("\n")) : `(${r.path} is empty)`, { files: r.files.map((f) => ({ path: f.absolutePath, type: f.type, size: f.size })) });
    }),
  );

  server.registerTool(
    "run_code",
    {
      title: "Run code in a notebook-style interpreter",
      description:
        "Runs Python (IPython, default), JavaScript or TypeScript in a persistent interpreter: variables survive between calls. Returns printed output, the value of the last expression, errors with traceback, and plots as images (matplotlib figures are captured automatically; call plt.show()). pandas DataFrames come back as text and HTML.",
      inputSchema: {
        code: z.string().describe("The code to run"),
        language: z.enum(["python", "javascript", "typescript"]).optional().describe("Default python"),
        timeout_seconds: z.number().positive().max(3600).optional().describe("Interrupt the run after this many seconds"),
        sandbox_id: sandboxId,
      },
    },
    safe(async (a) => {
      const r = await boxes.get(a.sandbox_id).runCode(a.code, { language: a.language ?? "python", ...(a.timeout_seconds !== undefined && { timeout: a.timeout_seconds * 1000 }) });
      const content: CallToolResult["content"] = [];
      const parts: string[] = [];
      if (r.logs.stdout.length) parts.push(`--- stdout ---\n${clip(r.logs.stdout.join(""))}`);
      if (r.logs.stderr.length) parts.push(`--- stderr ---\n${clip(r.logs.stderr.join(""))}`);
      for (const res of r.results) {
        if (res.png) content.push({ type: "image", data: res.png, mimeType: "image/png" });
        else if (res.jpeg) content.push({ type: "image", data: res.jpeg, mimeType: "image/jpeg" });
        if (res.json !== undefined && !res.png) parts.push(`--- result (json) ---\n${clip(JSON.stringify(res.json, null, 2))}`);
        else if (res.text !== undefined && !res.png) parts.push(`--- result ---\n${clip(res.text)}`);
        if (res.html && !res.png) parts.push(`--- result (html) ---\n${clip(res.html, 10_000)}`);
      }
      if (r.error) parts.push(`--- error ---\n${r.error.name}: ${r.error.message}\n${clip(r.error.traceback.join("\n"), 8000)}`);
      content.unshift({ type: "text", text: parts.join("\n") || "(no output)" });
      return { content, ...(r.error && { isError: true }) };
    }),
  );

  server.registerTool(
    "start_process",
    {
      title: "Start a background process",
      description: "Starts a long-running command (a web server, a watcher, a build) in the background and returns its process id at once. Read its output with get_process_logs; make a server reachable with expose_port.",
      inputSchema: {
        command: z.string().min(1).describe("The command line, e.g. \"python3 -m http.server 8080\""),
        process_id: z.string().optional().describe("Your own id for the process (default: generated)"),
        cwd: z.string().optional().describe("Working directory (default /workspace)"),
        env,
        sandbox_id: sandboxId,
      },
    },
    safe(async (a) => {
      const p = await boxes.get(a.sandbox_id).startProcess(a.command, { ...(a.process_id && { processId: a.process_id }), ...(a.cwd && { cwd: a.cwd }), ...(a.env && { env: a.env }) });
      return text(`Started process ${p.id} (pid ${p.pid ?? "?"}): ${a.command}`, { processId: p.id, pid: p.pid ?? null });
    }),
  );

  server.registerTool(
    "get_process_logs",
    {
      title: "Read a background process's output",
      description: "Returns a background process's status, exit code and its stdout/stderr so far. Pass wait_for to wait (up to timeout_seconds) until a line containing that text appears.",
      inputSchema: {
        process_id: z.string().min(1),
        wait_for: z.string().optional().describe("Wait until the output contains this text (e.g. \"listening\")"),
        timeout_seconds: z.number().positive().max(600).optional().describe("How long wait_for may wait (default 30)"),
        sandbox_id: sandboxId,
      },
      annotations: { readOnlyHint: true },
    },
    safe(async (a) => {
      const sb = boxes.get(a.sandbox_id);
      const p = await sb.getProcess(a.process_id);
      if (!p) throw errorFromResponse({ code: ErrorCode.PROCESS_NOT_FOUND, message: `Cannot read logs: no process ${a.process_id} in this sandbox`, context: { processId: a.process_id }, httpStatus: 404 });
      if (a.wait_for) await p.waitForLog(a.wait_for, (a.timeout_seconds ?? 30) * 1000);
      await p.getStatus();
      const logs = await p.getLogs();
      return text(`process ${p.id}: ${p.status}${p.exitCode !== undefined ? ` (exit code ${p.exitCode})` : ""}\n--- stdout ---\n${clip(logs.stdout)}\n--- stderr ---\n${clip(logs.stderr)}`, { status: p.status, exitCode: p.exitCode ?? null, ...logs });
    }),
  );

  server.registerTool(
    "kill_process",
    {
      title: "Stop a background process",
      description: "Sends a signal (default SIGTERM) to a background process.",
      inputSchema: { process_id: z.string().min(1), signal: z.string().optional().describe("e.g. SIGKILL"), sandbox_id: sandboxId },
      annotations: { destructiveHint: true },
    },
    safe(async (a) => {
      await boxes.get(a.sandbox_id).killProcess(a.process_id, a.signal);
      return text(`Sent ${a.signal ?? "SIGTERM"} to process ${a.process_id}`);
    }),
  );

  server.registerTool(
    "expose_port",
    {
      title: "Expose a port as a preview URL",
      description: "Makes a server listening on a port inside the sandbox reachable from outside and returns its public preview URL (HTTP and WebSocket). Ports 1024-65535 except 3000.",
      inputSchema: { port: z.number().int().min(1024).max(65535).describe("The port the server listens on"), sandbox_id: sandboxId },
    },
    safe(async (a) => {
      const r = await boxes.get(a.sandbox_id).exposePort(a.port);
      return text(`Port ${a.port} is exposed at ${r.url}`, { port: a.port, url: r.url });
    }),
  );

  server.registerTool(
    "destroy_sandbox",
    {
      title: "Destroy a sandbox",
      description: "Destroys a sandbox with its files and processes. This session's next call creates a fresh sandbox.",
      inputSchema: { sandbox_id: sandboxId },
      annotations: { destructiveHint: true },
    },
    safe(async (a) => {
      const id = a.sandbox_id ?? boxes.current;
      await boxes.get(id).destroy();
      boxes.forget(id);
      return text(`Destroyed sandbox ${id}`);
    }),
  );
}
