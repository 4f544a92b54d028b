// Connection settings: ATOLL_URL (default http://127.0.0.1:8787) and ATOLL_API_KEY (default: the
// server's key file <ATOLL_DATA_DIR or /var/lib/atoll>/api-key when readable). --url/--api-key override.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type AtollClient } from "@atoll/sdk";

export const DEFAULT_URL = "http://127.0.0.1:8787";

export function apiKeyFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  if (env.ATOLL_API_KEY) return env.ATOLL_API_KEY;
  try {
    return readFileSync(join(env.ATOLL_DATA_DIR || "/var/lib/atoll", "api-key"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function clientFrom(flags: { url?: string; apiKey?: string }, env: NodeJS.ProcessEnv): AtollClient {
  return createClient({ url: flags.url ?? env.ATOLL_URL ?? DEFAULT_URL, apiKey: flags.apiKey ?? apiKeyFromEnv(env) });
}
