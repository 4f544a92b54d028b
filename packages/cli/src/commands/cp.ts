// atoll cp <local> <id>:<path>   |   atoll cp <id>:<path> <local>
// Files stream through the raw route, directories through the tar route.
import { getSandbox } from "@atoll/sdk";
import { copyFromSandbox, copyToSandbox } from "@atoll/sdk/node";
import { UsageError, parseArgs } from "../args.js";
import type { Command } from "./types.js";

// "<sandbox id>:<path>"; prefix a local path containing ':' with "./" to keep it local.
const REMOTE = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(.*)$/;

export function parseRemote(arg: string): { id: string; path: string } | null {
  if (arg.startsWith("/") || arg.startsWith(".")) return null;
  const m = REMOTE.exec(arg);
  return m ? { id: m[1]!, path: m[2] || "/workspace" } : null;
}

export const cp: Command = {
  usage: "cp <local> <id>:<path> | cp <id>:<path> <local>   copy files or directories",
  async run(argv, { client, io }) {
    const p = parseArgs(argv);
    if (p.positionals.length !== 2) throw new UsageError("cp needs a source and a destination");
    const [src, dst] = p.positionals as [string, string];
    const rs = parseRemote(src);
    const rd = parseRemote(dst);
    if (rs && rd) throw new UsageError("cp copies between the local machine and one sandbox, not between sandboxes");
    if (!rs && !rd) throw new UsageError("one of source or destination must be <sandbox id>:<path>");
    if (rd) {
      const r = await copyToSandbox(getSandbox(client(), rd.id), src, rd.path);
      io.err(`${r.kind === "directory" ? "directory" : "file"} ${src} → ${rd.id}:${rd.path} (${r.bytes} bytes)`);
    } else {
      const r = await copyFromSandbox(getSandbox(client(), rs!.id), rs!.path, dst);
      io.err(`${r.kind} ${rs!.id}:${rs!.path} → ${dst}`);
    }
    return 0;
  },
};
