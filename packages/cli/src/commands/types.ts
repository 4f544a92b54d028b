import type { AtollClient } from "@atoll/sdk";
import type { IO } from "../io.js";

export interface CommandContext {
  io: IO;
  env: NodeJS.ProcessEnv;
  /** Lazily built client (ATOLL_URL / ATOLL_API_KEY / --url / --api-key). */
  client(): AtollClient;
}

export interface Command {
  /** One line shown in `atoll --help`. */
  usage: string;
  run(argv: string[], ctx: CommandContext): Promise<number>;
}
