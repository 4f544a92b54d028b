// The control plane's SQLite database (<dataDir>/atoll.db, WAL): one handle shared by every
// store, its tables created and upgraded by ./schema.ts when it is opened.
import Database from "better-sqlite3";
import { chmodSync, mkdirSync } from "node:fs";
import path from "node:path";
import { migrate } from "./schema.js";

export type Db = Database.Database;

/** Opens (creating if needed) and migrates a database file; ":memory:" for tests. */
export function openDatabase(file: string): Db {
  const db = new Database(file);
  try {
    // Sandbox env vars (often secrets) live here: owner-only, and SQLite gives -wal/-shm the same mode.
    if (file !== ":memory:") chmodSync(file, 0o600);
    if (file !== ":memory:") db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("busy_timeout = 5000");
    db.pragma("foreign_keys = ON");
    migrate(db);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

export function openDb(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  return openDatabase(path.join(dataDir, "atoll.db"));
}
