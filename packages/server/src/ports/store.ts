// Exposed ports and their preview tokens, persisted in SQLite so preview URLs survive a
// control-plane restart. An in-memory map mirrors the table for the preview router's hot path.
//
// Tokens are per port: exposing a port mints a fresh token; unexposing forgets it, so an old
// URL never opens a port that is exposed again later, and a token for one port opens nothing else.
import type { Db } from "../store/db.js";

export interface PortRecord {
  sandboxId: string;
  port: number;
  token: string;
  name?: string;
  createdAt: string;
}

interface Row {
  sandbox_id: string;
  port: number;
  token: string;
  name: string | null;
  created_at: string;
}

const key = (sandboxId: string, port: number): string => `${sandboxId}:${port}`;

export class PortStore {
  private readonly cache = new Map<string, PortRecord>();
  private readonly insertStmt;
  private readonly deleteStmt;
  private readonly deleteAllStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare("INSERT INTO exposed_ports (sandbox_id, port, token, name, created_at) VALUES (?, ?, ?, ?, ?)");
    this.deleteStmt = db.prepare("DELETE FROM exposed_ports WHERE sandbox_id = ? AND port = ?");
    this.deleteAllStmt = db.prepare("DELETE FROM exposed_ports WHERE sandbox_id = ?");
    for (const r of db.prepare("SELECT sandbox_id, port, token, name, created_at FROM exposed_ports").all() as Row[]) {
      this.cache.set(key(r.sandbox_id, r.port), { sandboxId: r.sandbox_id, port: r.port, token: r.token, name: r.name ?? undefined, createdAt: r.created_at });
    }
  }

  get(sandboxId: string, port: number): PortRecord | undefined {
    return this.cache.get(key(sandboxId, port));
  }

  /** Inserts; the caller has checked that the port is not exposed yet. */
  add(rec: PortRecord): void {
    this.insertStmt.run(rec.sandboxId, rec.port, rec.token, rec.name ?? null, rec.createdAt);
    this.cache.set(key(rec.sandboxId, rec.port), rec);
  }

  remove(sandboxId: string, port: number): boolean {
    this.deleteStmt.run(sandboxId, port);
    return this.cache.delete(key(sandboxId, port));
  }

  /** Forgets every port of a sandbox (called when the sandbox is destroyed). */
  removeAll(sandboxId: string): void {
    this.deleteAllStmt.run(sandboxId);
    for (const [k, r] of this.cache) if (r.sandboxId === sandboxId) this.cache.delete(k);
  }

  list(sandboxId: string): PortRecord[] {
    const out: PortRecord[] = [];
    for (const r of this.cache.values()) if (r.sandboxId === sandboxId) out.push(r);
    return out.sort((a, b) => a.port - b.port);
  }
}
