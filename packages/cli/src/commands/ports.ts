// expose, ports, unexpose.
import { getSandbox } from "@atoll/sdk";
import { need, parseArgs, port, str } from "../args.js";
import { table } from "../io.js";
import type { Command } from "./types.js";

export const expose: Command = {
  usage: "expose <id> <port> [--name N] [--hostname H]   print the port's preview URL",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { string: ["name", "hostname"] });
    const r = await getSandbox(client(), need(p, 0, "sandbox id")).exposePort(port(need(p, 1, "port")), { name: str(p, "name"), hostname: str(p, "hostname") });
    io.out(r.url);
    return 0;
  },
};

export const ports: Command = {
  usage: "ports <id> [--hostname H] [--json]  list exposed ports",
  async run(argv, { client, io }) {
    const p = parseArgs(argv, { string: ["hostname"], bool: ["json"] });
    const list = await getSandbox(client(), need(p, 0, "sandbox id")).getExposedPorts(str(p, "hostname"));
    if (p.flags.json) return io.out(JSON.stringify(list, null, 2)), 0;
    table(io, ["PORT", "STATUS", "NAME", "URL"], list.map((x) => [x.port, x.status, x.name, x.url]));
    return 0;
  },
};

export const unexpose: Command = {
  usage: "unexpose <id> <port>                 remove a preview URL",
  async run(argv, { client }) {
    const p = parseArgs(argv);
    await getSandbox(client(), need(p, 0, "sandbox id")).unexposePort(port(need(p, 1, "port")));
    return 0;
  },
};
