// The control plane's SQLite database (<dataDir>/atoll.db, WAL). One handle shared by every
// module; each module creates its own tables with CREATE TABLE IF NOT EXISTS.
import Database from "better-sqlite3";
import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";

export type Db = Database.Database;

export function openDb(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, "atoll.db");
  const db = new Database(file);
  // Sandbox env vars (often secrets) live here: owner-only, and SQLite gives -wal/-shm the same mode.
  chmodSync(file, 0o600);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  return db;
}
