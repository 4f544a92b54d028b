// Every table of the control plane's database, as numbered migrations. The database records how
// far it has come in `PRAGMA user_version`; opening it applies the missing steps in order, each in
// one transaction, so a schema change upgrades existing databases instead of being skipped by a
// `CREATE TABLE IF NOT EXISTS`. A database from a newer Atoll is refused rather than guessed at.
//
// Rules: never edit a migration that has shipped; add a new one. Migration 1 uses IF NOT EXISTS
// because databases written before migrations existed (user_version 0) already hold its tables.
import { AtollError, ErrorCode } from "@atoll/protocol";
import type { Db } from "./db.js";

export const MIGRATIONS: readonly string[] = [
  // 1: sandboxes, their sessions, snapshots, exposed ports, templates.
  `CREATE TABLE IF NOT EXISTS sandboxes (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    driver TEXT NOT NULL,
    template TEXT NOT NULL,
    limits TEXT NOT NULL,
    env TEXT NOT NULL DEFAULT '{}',
    sleep_after_ms INTEGER NOT NULL,
    keep_alive INTEGER NOT NULL DEFAULT 0,
    from_snapshot TEXT,
    created_at TEXT NOT NULL,
    last_active_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS sandbox_sessions (
    sandbox_id TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    spec TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    PRIMARY KEY (sandbox_id, name)
  );
  CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY,
    sandbox_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    size_bytes INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS exposed_ports (
    sandbox_id TEXT NOT NULL,
    port INTEGER NOT NULL,
    token TEXT NOT NULL,
    name TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (sandbox_id, port)
  );
  CREATE TABLE IF NOT EXISTS templates (
    name TEXT PRIMARY KEY,
    source_type TEXT NOT NULL,
    source_path TEXT NOT NULL,
    rootfs TEXT NOT NULL,
    owned INTEGER NOT NULL,
    env TEXT NOT NULL,
    workdir TEXT,
    ports TEXT NOT NULL,
    startup TEXT,
    created_at TEXT NOT NULL
  );`,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings `db` to SCHEMA_VERSION; returns the version it found. */
export function migrate(db: Db): number {
  const found = db.pragma("user_version", { simple: true }) as number;
  if (found > SCHEMA_VERSION) {
    throw new AtollError(
      ErrorCode.VALIDATION_FAILED,
      `Cannot open the database: it has schema version ${found}, this Atoll knows up to ${SCHEMA_VERSION} (it was written by a newer Atoll; upgrade, or use another ATOLL_DATA_DIR)`,
      { found, supported: SCHEMA_VERSION },
    );
  }
  for (let v = found; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return found;
}
