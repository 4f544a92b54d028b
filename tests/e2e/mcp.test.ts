// The MCP server, driven by the official MCP client (@modelcontextprotocol/sdk) against a real
// control plane and real sandboxes: over stdio (`atoll mcp`, the bundled CLI) and over streamable
// HTTP (/v1/mcp, API key). The same checks run on both; then the scripted agent example runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { disconnect, runAgent, transportFor } from "../../examples/mcp-agent/agent.js";
import { REPO_ROOT, startAtoll, waitFor, type Atoll } from "./harness.js";
import { send } from "./preview-helpers.js";
import { decodePng } from "./mcp-helpers.js";

const BIN = path.join(REPO_ROOT, "packages/cli/dist/atoll.mjs");
let atoll: Atoll;

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});

async function connect(kind: "stdio" | "http"): Promise<Client> {
  const client = new Client({ name: "atoll-e2e", version: "1.0.0" });
  await client.connect(transportFor(kind, { url: atoll.url, apiKey: atoll.apiKey, atollBin: [process.execPath, BIN] }));
  return client;
}

const call = async (c: Client, name: string, args: Record<string, unknown> = {}) => (await c.callTool({ name, arguments: args })) as CallToolResult;
const textOf = (r: CallToolResult) => r.content.filter((c) => c.type === "text").map((c) => (c as { text: string }).text).join("\n");
const sandboxIds = async () => ((await atoll.json("GET", "/v1/sandboxes")).body.sandboxes as { id: string }[]).map((s) => s.id);

async function exercise(kind: "stdio" | "http"): Promise<void> {
  const before = new Set(await sandboxIds());
  const c = await connect(kind);
  let sessionBox: string | undefined;
  try {
    const { tools } = await c.listTools();
    const names = tools.map((t) => t.name).sort();
    for (const n of ["create_sandbox", "get_sandbox", "run_command", "write_file", "read_file", "list_files", "run_code", "start_process", "get_process_logs", "kill_process", "expose_port", "destroy_sandbox"]) assert.ok(names.includes(n), `missing tool ${n}`);
    for (const t of tools) {
      assert.ok(t.description && t.description.length > 20, `${t.name} needs a description`);
      assert.equal(t.inputSchema.type, "object");
    }
    const run = tools.find((t) => t.name === "run_command")!;
    assert.deepEqual(run.inputSchema.required, ["command"]);

    // this session's sandbox is created on first use (create_sandbox makes it explicit)
    const created = await call(c, "create_sandbox");
    assert.ok(!created.isError, textOf(created));
    sessionBox = (created.structuredContent as { sandbox: { id: string } }).sandbox.id;
    assert.match(sessionBox, /^mcp-[0-9a-f]{8}$/);
    assert.ok((await sandboxIds()).includes(sessionBox));

    const cmd = await call(c, "run_command", { command: "echo hello; echo oops >&2; exit 3" });
    assert.equal(cmd.isError ?? false, false);
    assert.match(textOf(cmd), /^exit code 3\n--- stdout ---\nhello\n\n--- stderr ---\noops\n/);
    const slow = await call(c, "run_command", { command: "sleep 10", timeout_seconds: 1 });
    assert.match(textOf(slow), /^timed out after 1 s/);

    assert.ok(!(await call(c, "write_file", { path: "/workspace/notes/a.txt", content: "héllo mcp" })).isError);
    assert.equal(textOf(await call(c, "read_file", { path: "/workspace/notes/a.txt" })), "héllo mcp");
    const listing = textOf(await call(c, "list_files", { path: "/workspace/notes" }));
    assert.match(listing, /^f +10 a\.txt$/m);

    // Python that plots → image content that decodes
    const plot = await call(c, "run_code", { code: "import matplotlib.pyplot as plt\nprint('plotting')\nplt.plot([1, 3, 2])\nplt.show()" });
    assert.ok(!plot.isError, textOf(plot));
    assert.match(textOf(plot), /plotting/);
    const img = plot.content.find((x) => x.type === "image") as { data: string; mimeType: string } | undefined;
    assert.ok(img, "no image content");
    assert.equal(img.mimeType, "image/png");
    const { width, height } = decodePng(Buffer.from(img.data, "base64"));
    assert.ok(width > 50 && height > 50, `${width}x${height}`);
    const failed = await call(c, "run_code", { code: "1/0" });
    assert.equal(failed.isError, true);
    assert.match(textOf(failed), /ZeroDivisionError/);

    // a server, its logs, its preview URL (fetched through the control plane's preview router)
    await call(c, "write_file", { path: "/workspace/site/index.html", content: `served over ${kind}` });
    const started = await call(c, "start_process", { command: "python3 -u -m http.server 8000 --directory /workspace/site", process_id: "web" });
    assert.match(textOf(started), /^Started process web/);
    const logs = await call(c, "get_process_logs", { process_id: "web", wait_for: "Serving HTTP", timeout_seconds: 30 });
    assert.match(textOf(logs), /^process web: running/);
    const exposed = await call(c, "expose_port", { port: 8000 });
    const url = (exposed.structuredContent as { url: string }).url;
    assert.match(url, new RegExp(`^http://8000-${sessionBox}-[a-z0-9_-]{16}\\.localhost:${atoll.port}/$`));
    const page = await send(atoll.port, new URL(url).host);
    assert.equal(page.status, 200);
    assert.equal(page.body.toString(), `served over ${kind}`);

    // bad input and failures come back as tool errors with Atoll codes; the server keeps serving
    const missing = await call(c, "read_file", { path: "/workspace/nope.txt" });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /^Error FILE_NOT_FOUND: /);
    assert.equal((missing.structuredContent as { error: { code: string } }).error.code, "FILE_NOT_FOUND");
    const badPort = await call(c, "expose_port", { port: 3000 });
    assert.equal(badPort.isError, true);
    const badId = await call(c, "run_command", { command: "true", sandbox_id: "Not Valid!" });
    assert.match(textOf(badId), /^Error INVALID_SANDBOX_ID: /);
    const wrongType = await call(c, "run_command", { command: 42 });
    assert.equal(wrongType.isError, true, "schema violations are tool errors");
    const noProc = await call(c, "get_process_logs", { process_id: "ghost" });
    assert.match(textOf(noProc), /^Error PROCESS_NOT_FOUND: /);
    await assert.rejects(c.callTool({ name: "no_such_tool", arguments: {} }).then((r) => (r.isError ? Promise.reject(new Error(textOf(r as CallToolResult))) : r)));
    assert.match(textOf(await call(c, "run_command", { command: "echo still alive" })), /still alive/);
  } finally {
    await disconnect(c);
  }
  // the session's own sandbox goes away with the session
  await waitFor(`sandbox ${sessionBox} destroyed after the ${kind} session closed`, async () => !(await sandboxIds()).includes(sessionBox!), 20_000, 200);
  assert.deepEqual((await sandboxIds()).filter((id) => !before.has(id)), []);
}

test("MCP over stdio (atoll mcp): tools, commands, files, plots as images, preview URL, tool errors", { timeout: 300_000 }, () => exercise("stdio"));

test("MCP over streamable HTTP on the control plane (/v1/mcp): the same, with the API key", { timeout: 300_000 }, () => exercise("http"));

test("atoll mcp --sandbox: sessions share a named sandbox that outlives them", { timeout: 120_000 }, async () => {
  for (const word of ["one", "two"]) {
    const c = new Client({ name: "atoll-e2e", version: "1.0.0" });
    await c.connect(transportFor("stdio", { url: atoll.url, apiKey: atoll.apiKey, atollBin: [process.execPath, BIN], mcpArgs: ["--sandbox", "mcp-shared"] }));
    try {
      const r = await call(c, "run_command", { command: `echo ${word} >> /workspace/log.txt; cat /workspace/log.txt` });
      assert.equal(r.structuredContent?.stdout, word === "one" ? "one\n" : "one\ntwo\n");
    } finally {
      await disconnect(c);
    }
  }
  await new Promise((r) => setTimeout(r, 1000)); // a destroy on close would have happened by now
  assert.ok((await sandboxIds()).includes("mcp-shared"), "a named sandbox is not destroyed with the session");
  await atoll.json("DELETE", "/v1/sandboxes/mcp-shared");
});

test("/v1/mcp needs the API key and a session", async () => {
  const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
  const noKey = await atoll.json("POST", "/v1/mcp", init, { noAuth: true, headers: { accept: "application/json, text/event-stream" } });
  assert.equal(noKey.status, 401);
  assert.equal(noKey.body.code, "UNAUTHORIZED");
  const unknown = await atoll.json("POST", "/v1/mcp", { jsonrpc: "2.0", id: 2, method: "tools/list" }, { headers: { accept: "application/json, text/event-stream", "mcp-session-id": "nope" } });
  assert.equal(unknown.status, 404);
  const noSession = await atoll.json("GET", "/v1/mcp", undefined, { headers: { accept: "text/event-stream" } });
  assert.equal(noSession.status, 400);
});

test("examples/mcp-agent: the scripted agent loop ends with a working report URL", { timeout: 300_000 }, async () => {
  const c = await connect("http");
  try {
    const lines: string[] = [];
    const t = await runAgent(c, (l) => lines.push(l));
    assert.ok(t.answer, lines.join("\n"));
    assert.ok(t.steps[2]!.result.content.some((x) => x.type === "image"), "the plot came back as an image");
    const page = await send(atoll.port, new URL(t.answer).host);
    assert.match(page.body.toString(), /plot returned as image: true/);
    const png = await send(atoll.port, new URL(t.answer).host, { path: "/plot.png" });
    assert.equal(png.status, 200);
    decodePng(png.body);
  } finally {
    await disconnect(c);
  }
});
