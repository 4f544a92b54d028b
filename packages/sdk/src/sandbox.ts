// The Sandbox handle: getSandbox(client, id, options) → the Cloudflare-style method surface.
// Nothing is sent until the first call, which creates (or finds) the sandbox with one PUT.
import type { SandboxInfo, SnapshotInfo } from "@atoll/protocol";
import type { AtollClient } from "./client.js";
import { SandboxCore, type SandboxOptions } from "./core.js";
import * as life from "./lifecycle.js";
import * as ports from "./ports.js";
import type { ExposePortOptions } from "./ports.js";
import { ExecutionSession, SessionApi } from "./session-api.js";
import * as sessions from "./sessions.js";
import type { SessionOptions } from "./sessions.js";
import * as ws from "./websocket.js";

export class Sandbox extends SessionApi {
  readonly id: string;
  readonly client: AtollClient;
  /** @internal */
  readonly core: SandboxCore;

  constructor(client: AtollClient, id: string, options: SandboxOptions = {}) {
    const core = new SandboxCore(client, id, options);
    super({ core });
    this.core = core;
    this.id = id;
    this.client = client;
  }

  /** Creates or wakes the sandbox now (otherwise the first call does it). */
  ready(): Promise<SandboxInfo> {
    return this.core.ensure();
  }

  /** Current state from the control plane. */
  info(): Promise<SandboxInfo> {
    return life.info(this.core);
  }

  // ---- sessions ----
  createSession(options?: SessionOptions): Promise<ExecutionSession> {
    return sessions.createSession(this.core, options);
  }
  async getSession(sessionId: string): Promise<ExecutionSession> {
    return sessions.getSession(this.core, sessionId);
  }
  deleteSession(sessionId: string) {
    return sessions.deleteSession(this.core, sessionId);
  }

  // ---- ports and preview URLs ----
  exposePort(port: number, options?: ExposePortOptions) {
    return ports.exposePort(this.core, port, options);
  }
  unexposePort(port: number): Promise<void> {
    return ports.unexposePort(this.core, port);
  }
  getExposedPorts(hostname?: string) {
    return ports.getExposedPorts(this.core, hostname);
  }
  /** Forwards a WebSocket upgrade Request to `port` (Workers-style runtimes and Deno). */
  wsConnect(request: Request, port: number): Promise<Response> {
    return ws.wsConnect(this.core, request, port);
  }
  /** Opens an authenticated WebSocket to `port`/`path` in the sandbox; resolves when open. */
  connectWebSocket(port: number, path?: string, protocols?: string[]): Promise<WebSocket> {
    return ws.connectWebSocket(this.core, port, path, protocols);
  }

  // ---- lifecycle ----
  destroy(): Promise<void> {
    return life.destroy(this.core);
  }
  async setKeepAlive(keepAlive: boolean): Promise<void> {
    await life.update(this.core, { keepAlive });
  }
  async setSleepAfter(sleepAfter: string | number): Promise<void> {
    await life.update(this.core, { sleepAfter });
  }
  /** Atoll: freezes every process (cgroup freezer); calls fail with SANDBOX_PAUSED until resume(). */
  pause(): Promise<SandboxInfo> {
    return life.pause(this.core);
  }
  resume(): Promise<SandboxInfo> {
    return life.resume(this.core);
  }
  /** Atoll: saves the sandbox's filesystem; start new sandboxes from it with { fromSnapshot: name }. */
  snapshot(name?: string): Promise<SnapshotInfo> {
    return life.snapshot(this.core, name);
  }
}

/** Returns a handle for sandbox `id` (created on first use with `options`). */
export function getSandbox(client: AtollClient, id: string, options: SandboxOptions = {}): Sandbox {
  return new Sandbox(client, id, options);
}

export type { SandboxOptions };
