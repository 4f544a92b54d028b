// The control plane's state: one SQLite handle and the stores built on it (templates live in
// ../templates/registry.ts on the same handle).
import { openDb, type Db } from "./db.js";
import { SandboxStore } from "./sandboxes.js";
import { SnapshotStore } from "./snapshots.js";

export { openDb, type Db } from "./db.js";
export { SandboxStore, type SandboxRow, type SessionSpec } from "./sandboxes.js";
export { SnapshotStore } from "./snapshots.js";

export interface Stores {
  db: Db;
  sandboxes: SandboxStore;
  snapshots: SnapshotStore;
}

export function openStores(dataDir: string): Stores {
  const db = openDb(dataDir);
  return { db, sandboxes: new SandboxStore(db), snapshots: new SnapshotStore(db) };
}
