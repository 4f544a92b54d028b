// Snapshot rows: a named copy of a sandbox's writable layer under <dataDir>/snapshots/<name>.
import type { SnapshotInfo } from "@atoll/protocol";
import type { Db } from "./db.js";

interface RawRow {
  name: string;
  sandbox_id: string;
  created_at: string;
  size_bytes: number;
}

const fromRaw = (r: RawRow): SnapshotInfo => ({ name: r.name, sandboxId: r.sandbox_id, createdAt: r.created_at, sizeBytes: r.size_bytes });

export class SnapshotStore {
  private q;
  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string], RawRow>("SELECT * FROM snapshots WHERE name = ?"),
      all: db.prepare<[], RawRow>("SELECT * FROM snapshots ORDER BY created_at, name"),
      insert: db.prepare<[string, string, string, number]>("INSERT INTO snapshots (name, sandbox_id, created_at, size_bytes) VALUES (?, ?, ?, ?)"),
      del: db.prepare<[string]>("DELETE FROM snapshots WHERE name = ?"),
    };
  }
  get(name: string): SnapshotInfo | undefined {
    const r = this.q.get.get(name);
    return r ? fromRaw(r) : undefined;
  }
  all(): SnapshotInfo[] {
    return this.q.all.all().map(fromRaw);
  }
  insert(s: SnapshotInfo): void {
    this.q.insert.run(s.name, s.sandboxId, s.createdAt, s.sizeBytes);
  }
  delete(name: string): void {
    this.q.del.run(name);
  }
}
