// The agent's sessions. "default" exists implicitly (created on first use) and cannot be deleted.
import { existsSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { AtollError, DEFAULT_SESSION_ID, ErrorCode, type SessionInfo } from "@atoll/protocol";
import { Session, agentBaseEnv } from "./session.js";

export const SESSION_ID_RE = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Where sessions start: ATOLL_WORKDIR or ATOLL_WORKSPACE, else /workspace when it exists, else the agent's cwd. */
export function defaultCwd(): string {
  for (const w of [process.env.ATOLL_WORKDIR, process.env.ATOLL_WORKSPACE]) if (w && existsSync(w)) return w;
  if (existsSync("/workspace")) return "/workspace";
  return process.cwd();
}

/** Each session is a bash (~3-4 MiB); env ATOLL_MAX_SESSIONS caps them (default 100, "default" included). */
function maxSessions(): number {
  const v = Number(process.env.ATOLL_MAX_SESSIONS);
  return Number.isInteger(v) && v > 0 ? v : 100;
}

export class SessionManager {
  private sessions = new Map<string, Session>();

  /** The session, creating "default" on first use. */
  get(id: string | undefined): Session {
    const sid = id === undefined || id === "" ? DEFAULT_SESSION_ID : id;
    const s = this.sessions.get(sid);
    if (s) return s;
    if (sid === DEFAULT_SESSION_ID) return this.create({ id: sid });
    throw new AtollError(ErrorCode.SESSION_NOT_FOUND, `Cannot use session ${JSON.stringify(sid.slice(0, 128))}: no such session`, { sessionId: sid.slice(0, 128) });
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  create(o: { id?: string; env?: Record<string, string>; cwd?: string }): Session {
    const id = o.id ?? `session_${Date.now()}_${randomBytes(6).toString("hex")}`;
    if (!SESSION_ID_RE.test(id)) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot create session ${JSON.stringify(id.slice(0, 80))}: ids are 1-128 chars of letters, digits and . _ : @ -`, { sessionId: id.slice(0, 80) });
    }
    if (this.sessions.has(id)) {
      throw new AtollError(ErrorCode.SESSION_EXISTS, `Cannot create session ${id}: it already exists`, { sessionId: id });
    }
    if (this.sessions.size >= maxSessions()) {
      throw new AtollError(ErrorCode.LIMIT_EXCEEDED, `Cannot create session ${id}: ${maxSessions()} sessions exist (ATOLL_MAX_SESSIONS); delete one first`, { sessionId: id, limit: maxSessions() });
    }
    const cwd = o.cwd ?? defaultCwd();
    let isDir = false;
    try {
      isDir = statSync(cwd).isDirectory();
    } catch {
      /* missing */
    }
    if (!isDir) throw new AtollError(ErrorCode.VALIDATION_FAILED, `Cannot create session ${id}: cwd ${cwd} is not a directory`, { sessionId: id, cwd });
    const s = new Session(id, { ...agentBaseEnv(), ...(o.env ?? {}) }, cwd);
    this.sessions.set(id, s);
    s.warm();
    return s;
  }

  async delete(id: string): Promise<void> {
    if (id === DEFAULT_SESSION_ID) {
      throw new AtollError(ErrorCode.SESSION_PROTECTED, `Cannot delete session ${id}: the default session is protected`, { sessionId: id });
    }
    const s = this.sessions.get(id);
    if (!s) throw new AtollError(ErrorCode.SESSION_NOT_FOUND, `Cannot delete session ${JSON.stringify(id.slice(0, 128))}: no such session`, { sessionId: id.slice(0, 128) });
    this.sessions.delete(id);
    await s.destroy();
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => ({
      id: s.id,
      cwd: s.cwd(),
      createdAt: s.createdAt.toISOString(),
      busy: s.busy,
      restarts: s.restarts,
    }));
  }

  /** Kills every session's shell and running command, keeping the sessions; resolves with how many shells. */
  async killShells(): Promise<number> {
    const n = await Promise.all([...this.sessions.values()].map((s) => s.killShell()));
    return n.reduce((a, b) => a + b, 0);
  }

  async destroyAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.destroy()));
  }
}
