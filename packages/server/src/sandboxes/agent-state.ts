// Agent state that must survive sleep: named sessions (id, env, cwd) and env vars set with
// POST /api/env. The forwarder reports successful calls here; a wake replays the sessions, and
// sandbox-wide env vars go into the driver spec (every process of the woken sandbox sees them).
import http from "node:http";
import { ENV_BOUNDS, envBytes } from "@atoll/protocol";
import type { SandboxEndpoint } from "../drivers/types.js";
import { agentHeaders } from "./agent-auth.js";
import type { Logger } from "../log.js";
import type { SessionSpec, Stores } from "../store/index.js";

export const RECORDED_PATHS = new Set(["/api/session/create", "/api/session/delete", "/api/env"]);
/**
 * Request/response bodies larger than this are not recorded (they are still forwarded). Room for
 * the largest env map a call may carry (ENV_BOUNDS.setBytes) with its JSON quoting.
 */
export const MAX_RECORDED_BODY = 2 * ENV_BOUNDS.setBytes;

type Json = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
const strMap = (v: unknown): Record<string, string | null> | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, string | null>) : undefined);

/** Applies {K: "v" | null} to env (null unsets). */
function merge(env: Record<string, string>, changes: Record<string, string | null>): Record<string, string> {
  const out = { ...env };
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete out[k];
    else if (typeof v === "string") out[k] = v;
  }
  return out;
}

export class AgentStateRecorder {
  constructor(
    private readonly stores: Stores,
    private readonly log: Logger,
  ) {}

  /**
   * Whether an env may be stored: within ENV_BOUNDS.keptBytes. The agent already refuses larger
   * ones, but its 2xx is the sandbox's word: the host keeps its own bound so stored state can never
   * grow past what a sandbox can start with.
   */
  private keepable(id: string, env: Record<string, string>, what: string): boolean {
    const n = envBytes(env);
    if (n <= ENV_BOUNDS.keptBytes) return true;
    this.log.warn(`sandbox ${id}: not keeping ${what} across sleep: ${n} bytes of env is over ${ENV_BOUNDS.keptBytes}`);
    return false;
  }

  /**
   * Called by the forwarder after a 2xx answer to one of RECORDED_PATHS. Never throws: the answer
   * went out already, and a failed write (e.g. a full data dir) only costs the replay after a wake.
   */
  record(id: string, path: string, req: Json, res: Json): void {
    try {
      this.write(id, path, req, res);
    } catch (e) {
      this.log.error(`Cannot record ${path} of sandbox ${id}: ${(e as Error).message}`);
    }
  }

  private write(id: string, path: string, req: Json, res: Json): void {
    const sb = this.stores.sandboxes;
    if (!sb.get(id)) return;
    if (path === "/api/session/create") {
      const sid = str(res.sessionId) ?? str(res.id) ?? str(req.id);
      if (!sid) return;
      const env = strMap(req.env);
      if (env && !this.keepable(id, merge({}, env), `session ${sid}`)) return;
      sb.putSession(id, sid, { id: sid, ...(env ? { env: merge({}, env) } : {}), ...(str(req.cwd) ? { cwd: str(req.cwd) } : {}) });
    } else if (path === "/api/session/delete") {
      const sid = str(req.sessionId) ?? str(req.id);
      if (sid) sb.deleteSession(id, sid);
    } else if (path === "/api/env") {
      const changes = strMap(req.envVars ?? req.env);
      if (!changes) return;
      const sid = str(req.sessionId);
      const named = sid ? sb.sessions(id).find((s) => s.id === sid) : undefined;
      if (named) {
        const env = merge(named.env ?? {}, changes);
        if (this.keepable(id, env, `session ${named.id}'s env`)) sb.putSession(id, named.id, { ...named, env });
      } else if (!sid || sid === "default") {
        const env = merge(sb.get(id)!.env, changes);
        if (this.keepable(id, env, "the sandbox's env")) sb.setEnv(id, env);
      }
    }
  }

  private restoring = new Map<string, Promise<void>>();

  /**
   * The agent answered SESSION_NOT_FOUND for `sessionId` although it was created through us and
   * never deleted: the agent restarted inside the running sandbox (crash, OOM) and lost its
   * sessions. Recreates them all (once per sandbox at a time); true when `sessionId` was ours.
   */
  async restore(id: string, ep: SandboxEndpoint, sessionId: string): Promise<boolean> {
    if (!this.stores.sandboxes.sessions(id).some((s) => s.id === sessionId)) return false;
    let p = this.restoring.get(id);
    if (!p) {
      this.log.info(`sandbox ${id}: agent lost its sessions (restarted?); recreating them`);
      p = this.replay(id, ep).finally(() => this.restoring.delete(id));
      this.restoring.set(id, p);
    }
    await p;
    return true;
  }

  /** Recreates the sandbox's named sessions in a freshly woken agent. Failures are logged, not fatal. */
  async replay(id: string, ep: SandboxEndpoint): Promise<void> {
    for (const s of this.stores.sandboxes.sessions(id)) {
      const status = await post(ep, "/api/session/create", s).catch((e: Error) => e.message);
      if (status !== 200) this.log.warn(`Cannot recreate session ${s.id} in sandbox ${id} after wake: ${status}`);
    }
  }
}

function post(ep: SandboxEndpoint, path: string, body: SessionSpec): Promise<number> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: ep.host, port: ep.agentPort, path, method: "POST", headers: agentHeaders(ep, { "content-type": "application/json", "content-length": Buffer.byteLength(data) }), timeout: 10_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(data);
  });
}
