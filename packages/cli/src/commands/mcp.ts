// atoll mcp: an MCP server over stdio whose tools drive Atoll sandboxes (docs/mcp.md). The
// control plane is ATOLL_URL / --url with its API key; by default each session gets its own
// sandbox, destroyed when the client disconnects.
import { parseArgs, str } from "../args.js";
import type { Command } from "./types.js";

export const mcp: Command = {
  usage: "mcp [--sandbox ID] [--keep] [--template NAME]   MCP server on stdio (see docs/mcp.md)",
  async run(argv, { client }) {
    const p = parseArgs(argv, { string: ["sandbox", "template"], bool: ["keep"] });
    const template = str(p, "template");
    // Imported lazily so the other commands do not load the MCP SDK.
    const { runStdio } = await import("@atoll/mcp");
    await runStdio(client(), { sandbox: str(p, "sandbox"), keep: p.flags.keep === true, ...(template && { create: { template } }) });
    return 0;
  },
};
