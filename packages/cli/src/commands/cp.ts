// atoll cp <local> <id>:<path>   |   atoll cp <id>:<path> <local>
// Files stream through the raw route, directories through the tar route. A directory from a
// sandbox is unpacked as a hostile archive (@atoll/sdk/node extractUntrusted): every entry left out
// is printed as a warning line and the command exits 3 ("copied, some entries refused"; 2 is a usage error).
import { getSandbox } from "@atoll/sdk";
import { copyFromSandbox, copyToSandbox, type SkippedEntry } from "@atoll/sdk/node";
import { UsageError, num, parseArgs } from "../args.js";
import type { Command } from "./types.js";

// "<sandbox id>:<path>"; prefix a local path containing ':' with "./" to keep it local.
const REMOTE = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?):(.*)$/;

export function parseRemote(arg: string): { id: string; path: string } | null {
  if (arg.startsWith("/") || arg.startsWith(".")) return null;
  const m = REMOTE.exec(arg);
  return m ? { id: m[1]!, path: m[2] || "/workspace" } : null;
}

export const cp: Command = {
  usage: "cp <local> <id>:<path> | cp <id>:<path> <local> [--max-bytes N] [--max-entries N]   copy files or directories",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { string: ["max-bytes", "max-entries"] });
    const limits = { maxBytes: num(p, "max-bytes"), maxEntries: num(p, "max-entries") };
    if (p.positionals.length !== 2) throw new UsageError("cp needs a source and a destination");
    const [src, dst] = p.positionals as [string, string];
    const rs = parseRemote(src);
    const rd = parseRemote(dst);
    if (rs && rd) throw new UsageError("cp copies between the local machine and one sandbox, not between sandboxes");
    if (!rs && !rd) throw new UsageError("one of source or destination must be <sandbox id>:<path>");
    let skipped: SkippedEntry[];
    if (rd) {
      const r = await copyToSandbox(getSandbox(client(), rd.id), src, rd.path);
      skipped = r.skipped;
      io.err(`${r.kind === "directory" ? "directory" : "file"} ${src} → ${rd.id}:${rd.path} (${r.bytes} bytes)`);
    } else {
      const r = await copyFromSandbox(getSandbox(client(), rs!.id), rs!.path, dst, limits);
      skipped = r.skipped;
      io.err(`${r.kind} ${rs!.id}:${rs!.path} → ${dst}`);
    }
    // Names and reasons come from the sandbox: control characters are escaped, never printed raw.
    for (const s of skipped) io.err(`warning: skipped ${JSON.stringify(s.path)}: ${JSON.stringify(s.reason).slice(1, -1)}`);
    if (skipped.length === 0) return 0;
    io.err(`warning: ${skipped.length} entr${skipped.length === 1 ? "y was" : "ies were"} left out or changed`);
    return 3;
  },
};
