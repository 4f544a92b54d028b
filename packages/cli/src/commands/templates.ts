// atoll template add|ls|rm.
import { UsageError, need, parseArgs, parseEnvPairs, port, str } from "../args.js";
import { ago, table } from "../io.js";
import type { Command } from "./types.js";
import { existsSync, statSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";

/** *.tar → oci-archive; a directory with index.json → oci-layout; else rootfs (override: --type). */
function guessType(path: string): string {
  if (/\.tar(\.gz)?$/.test(path)) return "oci-archive";
  if (existsSync(join(path, "index.json")) && statSync(path).isDirectory()) return "oci-layout";
  return "rootfs";
}

const TYPES = ["rootfs", "oci-archive", "oci-layout"] as const;

export const template: Command = {
  usage: "template add <name> <path> [--type rootfs|oci-archive|oci-layout] [--startup CMD] [--workdir D] [--env K=V]... [--port N]... | template ls | template rm <name>",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { string: ["path", "type", "startup", "workdir"], multi: ["env", "port"], bool: ["json"], alias: { e: "env" } });
    const sub = need(p, 0, "subcommand (add, ls or rm)");
    if (sub === "ls") {
      const list = await client().listTemplates();
      if (p.flags.json) return io.out(JSON.stringify(list, null, 2)), 0;
      table(io, ["NAME", "TYPE", "SOURCE", "CREATED"], list.map((t) => [t.name, t.source.type, t.source.path, ago(t.createdAt)]));
      return 0;
    }
    if (sub === "rm") {
      await client().deleteTemplate(need(p, 1, "template name"));
      return 0;
    }
    if (sub !== "add") throw new UsageError(`unknown template subcommand ${JSON.stringify(sub)} (add, ls, rm)`);
    const name = need(p, 1, "template name");
    // path as a positional (atoll template add web ./image.tar) or --path; the server reads it on
    // its own host, so a relative path is made absolute here
    const given = str(p, "path") ?? p.positionals[2];
    if (!given) throw new UsageError("template add needs a path (a rootfs directory, OCI archive or OCI layout on the server's host)");
    const path = resolvePath(given);
    const type = (str(p, "type") ?? guessType(path)) as (typeof TYPES)[number];
    if (!TYPES.includes(type)) throw new UsageError(`--type must be one of ${TYPES.join(", ")}`);
    const t = await client().addTemplate({
      name,
      source: { type, path },
      ...(str(p, "startup") && { startup: str(p, "startup") }),
      ...(str(p, "workdir") && { workdir: str(p, "workdir") }),
      ...(p.multi.env && { env: parseEnvPairs(p.multi.env) }),
      ...(p.multi.port && { ports: p.multi.port.map(port) }),
    });
    io.out(t.name);
    return 0;
  },
};
