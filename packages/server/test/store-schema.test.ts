// The schema module upgrades databases instead of skipping them: a database written by the
// pre-migration schema (tables made with CREATE TABLE IF NOT EXISTS, user_version 0) opens with
// its rows intact and is marked current; a database from a newer Atoll is refused with a code.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { openDatabase, openDb } from "../src/store/db.js";
import { migrate, SCHEMA_VERSION } from "../src/store/schema.js";
import { SandboxStore } from "../src/store/sandboxes.js";
import { PortStore } from "../src/ports/store.js";

// The tables exactly as the last release before migrations created them (user_version stayed 0).
const LEGACY = `
CREATE TABLE sandboxes (id TEXT PRIMARY KEY, status TEXT NOT NULL, driver TEXT NOT NULL, template TEXT NOT NULL,
  limits TEXT NOT NULL, env TEXT NOT NULL DEFAULT '{}', sleep_after_ms INTEGER NOT NULL, keep_alive INTEGER NOT NULL DEFAULT 0,
  from_snapshot TEXT, created_at TEXT NOT NULL, last_active_at TEXT NOT NULL);
CREATE TABLE sandbox_sessions (sandbox_id TEXT NOT NULL REFERENCES sandboxes(id) ON DELETE CASCADE, name TEXT NOT NULL,
  spec TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL, PRIMARY KEY (sandbox_id, name));
CREATE TABLE exposed_ports (sandbox_id TEXT NOT NULL, port INTEGER NOT NULL, token TEXT NOT NULL, name TEXT,
  created_at TEXT NOT NULL, PRIMARY KEY (sandbox_id, port));
INSERT INTO sandboxes VALUES ('old-box', 'running', 'oci', 'base', '{"cpu":1,"memoryMiB":512,"pids":128,"diskMiB":1024}',
  '{"K":"v"}', 600000, 1, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
INSERT INTO exposed_ports VALUES ('old-box', 8080, 'abcdefghijklmnop', NULL, '2026-01-01T00:00:00.000Z');
`;

function tmpDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "atoll-schema-"));
}

describe("store schema migrations", () => {
  it("a fresh database is created at the current version with every table", () => {
    const db = openDatabase(":memory:");
    assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(tables, ["exposed_ports", "sandbox_sessions", "sandboxes", "snapshots", "templates"]);
    db.close();
  });

  it("upgrades a database written by the pre-migration schema, keeping its rows", () => {
    const dir = tmpDir();
    try {
      const legacy = new Database(path.join(dir, "atoll.db"));
      legacy.exec(LEGACY);
      assert.equal(legacy.pragma("user_version", { simple: true }), 0);
      legacy.close();
      const db = openDb(dir);
      assert.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      const row = new SandboxStore(db).get("old-box");
      assert.equal(row?.env.K, "v");
      assert.equal(row?.keepAlive, true);
      assert.equal(new PortStore(db).get("old-box", 8080)?.token, "abcdefghijklmnop");
      // the tables the legacy database lacked now exist
      db.prepare("INSERT INTO snapshots VALUES ('s', 'old-box', 'now', 1)").run();
      assert.equal(statSync(path.join(dir, "atoll.db")).mode & 0o777, 0o600);
      db.close();
      // opening again is a no-op
      const again = openDb(dir);
      assert.equal(again.pragma("user_version", { simple: true }), SCHEMA_VERSION);
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a database from a newer Atoll with a coded error, without changing it", () => {
    const dir = tmpDir();
    try {
      const future = new Database(path.join(dir, "atoll.db"));
      future.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
      future.close();
      assert.throws(() => openDb(dir), (e: any) => e.code === "VALIDATION_FAILED" && /newer Atoll/.test(e.message));
      const check = new Database(path.join(dir, "atoll.db"));
      assert.equal(check.pragma("user_version", { simple: true }), SCHEMA_VERSION + 5);
      check.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a failing migration leaves the database at its previous version, with nothing half-made", () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (x); CREATE INDEX templates ON t (x)"); // an index named like a table: step 1 fails late
    assert.throws(() => migrate(db), /already an index named templates/);
    assert.equal(db.pragma("user_version", { simple: true }), 0);
    assert.equal((db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'sandboxes'").get() as { n: number }).n, 0);
    db.close();
  });
});
