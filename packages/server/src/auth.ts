// API-key authentication for /v1: a key from ATOLL_API_KEY or generated once into <dataDir>/api-key (0600).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import { AtollError, ErrorCode } from "@atoll/protocol";

export interface ApiKey {
  key: string;
  /** True when this start generated the key (print it once). */
  generated: boolean;
  /** "env" or the key file path. */
  source: string;
}

/** Resolves the server's API key: env override, else the stored key, else a new one stored 0600. */
export function loadApiKey(dataDir: string, fromEnv?: string): ApiKey {
  if (fromEnv) return { key: fromEnv, generated: false, source: "env" };
  const file = path.join(dataDir, "api-key");
  if (existsSync(file)) {
    chmodSync(file, 0o600); // a key file from an older version may be looser
    const key = readFileSync(file, "utf8").trim();
    if (key) return { key, generated: false, source: file };
  }
  const key = "atoll_" + randomBytes(24).toString("base64url");
  writeFileSync(file, key + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, generated: true, source: file };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Constant-time check of "Authorization: Bearer <key>" (equal-length SHA-256 digests). */
export function makeAuthChecker(key: string): (req: IncomingMessage) => void {
  const want = digest(key);
  return (req) => {
    const h = req.headers.authorization;
    const m = typeof h === "string" ? /^Bearer\s+(.+)$/i.exec(h.trim()) : null;
    if (!m) throw new AtollError(ErrorCode.UNAUTHORIZED, "Cannot authenticate: missing 'Authorization: Bearer <api key>' header");
    if (!timingSafeEqual(digest(m[1]!), want)) throw new AtollError(ErrorCode.UNAUTHORIZED, "Cannot authenticate: wrong API key");
  };
}
