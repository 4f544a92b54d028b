// An agent-style loop over Atoll's MCP tools, with no model: a scripted "policy" picks each next
// tool call from what the previous calls returned, as an LLM would. It connects with the official
// MCP client over stdio (`atoll mcp`) or streamable HTTP (the control plane's /v1/mcp):
//
//   ATOLL_URL=http://127.0.0.1:8787 ATOLL_API_KEY=... node --import tsx examples/mcp-agent/agent.ts http
//   ATOLL_URL=... ATOLL_API_KEY=... node --import tsx examples/mcp-agent/agent.ts stdio
//
// Task the "agent" solves: make a small CSV of measurements, analyse it with pandas, plot it,
// serve a report page and hand back its public URL.
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export interface Step {
  tool: string;
  args: Record<string, unknown>;
  /** What the agent wants to learn from this call (printed like a model's thought). */
  why: string;
}

export interface Transcript {
  steps: { step: Step; result: CallToolResult }[];
  /** The report's preview URL the agent ends with. */
  answer?: string;
}

/** The scripted policy: given the transcript so far, the next call (or null when done). */
export function nextStep(t: Transcript): Step | null {
  const last = t.steps.at(-1);
  const text = (last?.result.content ?? []).map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
  switch (t.steps.length) {
    case 0:
      return { tool: "write_file", why: "store the measurements", args: { path: "/workspace/data.csv", content: "day,temp\nmon,3\ntue,7\nwed,5\nthu,11\nfri,9\n" } };
    case 1:
      return { tool: "run_code", why: "summarise the data with pandas", args: { code: "import pandas as pd\ndf = pd.read_csv('/workspace/data.csv')\nprint(df['temp'].mean())\ndf.describe()" } };
    case 2: {
      const mean = /--- stdout ---\n([\d.]+)/.exec(text)?.[1];
      const code = ["import os", "import matplotlib.pyplot as plt", "os.makedirs('/workspace/site', exist_ok=True)", "plt.figure(figsize=(4, 3))", "plt.plot(df['day'], df['temp'], marker='o')", `plt.axhline(${mean}, linestyle='--')`, "plt.title('temperature')", "plt.savefig('/workspace/site/plot.png')", "plt.show()"];
      return { tool: "run_code", why: `plot it (mean is ${mean})`, args: { code: code.join("\n") } };
    }
    case 3: {
      const sawImage = last?.result.content.some((c) => c.type === "image");
      const page = `<h1>Temperatures</h1><p>plot returned as image: ${sawImage}</p><img src="plot.png">`;
      return { tool: "write_file", why: "write the report page", args: { path: "/workspace/site/index.html", content: page } };
    }
    case 4:
      return { tool: "start_process", why: "serve the report", args: { command: "python3 -u -m http.server 8000 --directory /workspace/site", process_id: "report" } };
    case 5:
      return { tool: "get_process_logs", why: "wait until the server is up", args: { process_id: "report", wait_for: "Serving HTTP", timeout_seconds: 30 } };
    case 6:
      return { tool: "expose_port", why: "get a public URL for the report", args: { port: 8000 } };
    default:
      t.answer = /(https?:\/\/\S+)/.exec(text)?.[1];
      return null;
  }
}

/** Runs the loop: ask the policy, call the tool, append to the transcript, until done. */
export async function runAgent(client: Client, log: (line: string) => void = () => {}): Promise<Transcript> {
  const { tools } = await client.listTools();
  log(`tools: ${tools.map((t) => t.name).join(", ")}`);
  const t: Transcript = { steps: [] };
  for (let step = nextStep(t); step; step = nextStep(t)) {
    log(`→ ${step.tool} (${step.why})`);
    const result = (await client.callTool({ name: step.tool, arguments: step.args })) as CallToolResult;
    const summary = result.content.map((c) => (c.type === "text" ? c.text.split("\n")[0] : `[${c.type} ${"mimeType" in c ? c.mimeType : ""}]`)).join(" | ");
    log(`  ${result.isError ? "ERROR " : ""}${summary}`);
    t.steps.push({ step, result });
    if (result.isError) throw new Error(`step ${step.tool} failed: ${summary}`);
  }
  log(`answer: ${t.answer}`);
  return t;
}

/** The official MCP client over stdio (spawning `atoll mcp`) or streamable HTTP. */
export function transportFor(kind: "stdio" | "http", opts: { url: string; apiKey: string; atollBin?: string[]; mcpArgs?: string[] }): Transport {
  if (kind === "http") {
    return new StreamableHTTPClientTransport(new URL("/v1/mcp", opts.url), { requestInit: { headers: { authorization: `Bearer ${opts.apiKey}` } } });
  }
  const [command, ...args] = opts.atollBin ?? ["atoll"];
  return new StdioClientTransport({ command: command!, args: [...args, "mcp", ...(opts.mcpArgs ?? [])], env: { ...(process.env as Record<string, string>), ATOLL_URL: opts.url, ATOLL_API_KEY: opts.apiKey }, stderr: "inherit" });
}

/** Ends the session: over HTTP a DELETE tells the server (which then destroys the session's sandbox); stdio ends with the process. */
export async function disconnect(client: Client): Promise<void> {
  const t = client.transport;
  if (t instanceof StreamableHTTPClientTransport) await t.terminateSession();
  await client.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const kind = process.argv[2] === "stdio" ? "stdio" : "http";
  const client = new Client({ name: "scripted-agent", version: "1.0.0" });
  await client.connect(transportFor(kind, { url: process.env.ATOLL_URL ?? "http://127.0.0.1:8787", apiKey: process.env.ATOLL_API_KEY ?? "" }));
  try {
    await runAgent(client, console.log);
  } finally {
    await disconnect(client);
  }
}
