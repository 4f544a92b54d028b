// Tool results an LLM can read: text content, image content for plots, and failures as tool
// errors (`isError: true`) carrying the Atoll registry code, so a bad call never ends the session.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { SandboxError } from "@atoll/sdk";

export function text(t: string, structured?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: t }], ...(structured && { structuredContent: structured }) };
}

/** Turns anything thrown by a tool into a tool error with its code. */
export function toolError(e: unknown): CallToolResult {
  if (e instanceof SandboxError) {
    return {
      isError: true,
      content: [{ type: "text", text: `Error ${e.code}: ${e.message}` }],
      structuredContent: { error: { code: e.code, message: e.message, httpStatus: e.httpStatus, context: e.context } },
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { isError: true, content: [{ type: "text", text: `Error INTERNAL_ERROR: ${message}` }], structuredContent: { error: { code: "INTERNAL_ERROR", message } } };
}

/** Wraps a tool body so every failure comes back as a tool error. */
export function safe<A>(fn: (args: A) => Promise<CallToolResult>): (args: A) => Promise<CallToolResult> {
  return async (args) => {
    try {
      return await fn(args);
    } catch (e) {
      return toolError(e);
    }
  };
}

/** Keeps long output within what a model can use; says how much was cut. */
export function clip(s: string, max = 20_000): string {
  return s.length <= max ? s : `${s.slice(0, max / 2)}\n… [${s.length - max} characters cut] …\n${s.slice(-max / 2)}`;
}
