// Sandbox rows: identity, options and lifecycle status of every sandbox the control plane knows.
import type { SandboxLimits, SandboxStatus } from "@atoll/protocol";
import type { Db } from "./db.js";

export interface SandboxRow {
  id: string;
  status: SandboxStatus;
  driver: string;
  template: string;
  limits: SandboxLimits;
  env: Record<string, string>;
  sleepAfterMs: number;
  keepAlive: boolean;
  fromSnapshot: string | null;
  createdAt: string;
  lastActiveAt: string;
}

/** How an agent session was created: replayed to /api/session/create after a wake. */
export interface SessionSpec {
  id: string;
  env?: Record<string, string>;
  cwd?: string;
}

interface RawRow {
  id: string;
  status: string;
  driver: string;
  template: string;
  limits: string;
  env: string;
  sleep_after_ms: number;
  keep_alive: number;
  from_snapshot: string | null;
  created_at: string;
  last_active_at: string;
}

const fromRaw = (r: RawRow): SandboxRow => ({
  id: r.id,
  status: r.status as SandboxStatus,
  driver: r.driver,
  template: r.template,
  limits: JSON.parse(r.limits),
  env: JSON.parse(r.env),
  sleepAfterMs: r.sleep_after_ms,
  keepAlive: r.keep_alive === 1,
  fromSnapshot: r.from_snapshot,
  createdAt: r.created_at,
  lastActiveAt: r.last_active_at,
});

export class SandboxStore {
  private q;
  constructor(db: Db) {
    this.q = {
      get: db.prepare<[string], RawRow>("SELECT * FROM sandboxes WHERE id = ?"),
      all: db.prepare<[], RawRow>("SELECT * FROM sandboxes ORDER BY created_at, id"),
      insert: db.prepare(`INSERT INTO sandboxes (id, status, driver, template, limits, env, sleep_after_ms, keep_alive, from_snapshot, created_at, last_active_at)
        VALUES (@id, @status, @driver, @template, @limits, @env, @sleep_after_ms, @keep_alive, @from_snapshot, @created_at, @last_active_at)`),
      status: db.prepare<[string, string]>("UPDATE sandboxes SET status = ? WHERE id = ?"),
      options: db.prepare<[number, number, string]>("UPDATE sandboxes SET sleep_after_ms = ?, keep_alive = ? WHERE id = ?"),
      env: db.prepare<[string, string]>("UPDATE sandboxes SET env = ? WHERE id = ?"),
      active: db.prepare<[string, string]>("UPDATE sandboxes SET last_active_at = ? WHERE id = ?"),
      del: db.prepare<[string]>("DELETE FROM sandboxes WHERE id = ?"),
      putSession: db.prepare<[string, string, string, string]>("INSERT INTO sandbox_sessions (sandbox_id, name, spec, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sandbox_id, name) DO UPDATE SET spec = excluded.spec"),
      delSession: db.prepare<[string, string]>("DELETE FROM sandbox_sessions WHERE sandbox_id = ? AND name = ?"),
      sessions: db.prepare<[string], { name: string; spec: string }>("SELECT name, spec FROM sandbox_sessions WHERE sandbox_id = ? ORDER BY rowid"),
    };
  }

  get(id: string): SandboxRow | undefined {
    const r = this.q.get.get(id);
    return r ? fromRaw(r) : undefined;
  }
  all(): SandboxRow[] {
    return this.q.all.all().map(fromRaw);
  }
  insert(row: SandboxRow): void {
    this.q.insert.run({
      id: row.id,
      status: row.status,
      driver: row.driver,
      template: row.template,
      limits: JSON.stringify(row.limits),
      env: JSON.stringify(row.env),
      sleep_after_ms: row.sleepAfterMs,
      keep_alive: row.keepAlive ? 1 : 0,
      from_snapshot: row.fromSnapshot,
      created_at: row.createdAt,
      last_active_at: row.lastActiveAt,
    });
  }
  setStatus(id: string, status: SandboxStatus): void {
    this.q.status.run(status, id);
  }
  setOptions(id: string, sleepAfterMs: number, keepAlive: boolean): void {
    this.q.options.run(sleepAfterMs, keepAlive ? 1 : 0, id);
  }
  setEnv(id: string, env: Record<string, string>): void {
    this.q.env.run(JSON.stringify(env), id);
  }
  setLastActive(id: string, iso: string): void {
    this.q.active.run(iso, id);
  }
  delete(id: string): void {
    this.q.del.run(id);
  }
  /** Named agent sessions (id, env, cwd) are remembered so a wake can recreate them. */
  putSession(id: string, name: string, spec: SessionSpec): void {
    this.q.putSession.run(id, name, JSON.stringify(spec), new Date().toISOString());
  }
  deleteSession(id: string, name: string): void {
    this.q.delSession.run(id, name);
  }
  sessions(id: string): SessionSpec[] {
    return this.q.sessions.all(id).map((r) => ({ ...JSON.parse(r.spec), id: r.name }));
  }
}
