// The bash binary, resolved once: sessions and processes must start even when a user's PATH is odd.
import { existsSync } from "node:fs";

let found: string | null = null;

export function bashPath(): string {
  if (found) return found;
  const dirs = [...(process.env.PATH ?? "").split(":"), "/bin", "/usr/bin", "/usr/local/bin"];
  found = dirs.map((d) => `${d}/bash`).find((p) => p.startsWith("/") && existsSync(p)) ?? "bash";
  return found;
}
