// ls, rm, pause, resume, snapshot, snapshots.
import { getSandbox } from "@atoll/sdk";
import { need, parseArgs } from "../args.js";
import { ago, table } from "../io.js";
import type { Command } from "./types.js";

export const ls: Command = {
  usage: "ls [--json]                          list sandboxes",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { bool: ["json"] });
    const list = await client().listSandboxes();
    if (p.flags.json) return io.out(JSON.stringify(list, null, 2)), 0;
    table(io, ["ID", "STATUS", "TEMPLATE", "DRIVER", "CREATED", "LAST ACTIVE"], list.map((s) => [s.id, s.status, s.template, s.driver, ago(s.createdAt), ago(s.lastActiveAt)]));
    return 0;
  },
};

export const rm: Command = {
  usage: "rm <id>...                           destroy sandboxes",
  async run(argv, { client, io }) {
    const p = parseArgs(argv);
    need(p, 0, "sandbox id");
    for (const id of p.positionals) {
      await client().deleteSandbox(id);
      io.out(id);
    }
    return 0;
  },
};

export const pause: Command = {
  usage: "pause <id>                           freeze a sandbox",
  async run(argv, { client, io }) {
    const id = need(parseArgs(argv), 0, "sandbox id");
    const info = await getSandbox(client(), id).pause();
    io.out(`${info.id} ${info.status}`);
    return 0;
  },
};

export const resume: Command = {
  usage: "resume <id>                          unfreeze a sandbox",
  async run(argv, { client, io }) {
    const id = need(parseArgs(argv), 0, "sandbox id");
    const info = await getSandbox(client(), id).resume();
    io.out(`${info.id} ${info.status}`);
    return 0;
  },
};

export const snapshot: Command = {
  usage: "snapshot <id> [name]                 snapshot a sandbox's filesystem",
  async run(argv, { client, io }) {
    const p = parseArgs(argv);
    const id = need(p, 0, "sandbox id");
    const s = await getSandbox(client(), id).snapshot(p.positionals[1]);
    io.out(s.name);
    return 0;
  },
};

export const snapshots: Command = {
  usage: "snapshots [--json] | snapshots rm <name>  list or delete snapshots",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { bool: ["json"] });
    if (p.positionals[0] === "rm") {
      await client().deleteSnapshot(need(p, 1, "snapshot name"));
      return 0;
    }
    const list = await client().listSnapshots();
    if (p.flags.json) return io.out(JSON.stringify(list, null, 2)), 0;
    table(io, ["NAME", "SANDBOX", "SIZE", "CREATED"], list.map((s) => [s.name, s.sandboxId, `${(s.sizeBytes / 1048576).toFixed(1)} MiB`, ago(s.createdAt)]));
    return 0;
  },
};
