// Port exposure: validation, tokens, preview URLs, status, and the token check the preview
// router and the /proxy route use.
import {
  AtollError,
  ErrorCode,
  assertExposablePort,
  assertSandboxId,
  formatPreviewUrl,
  hostWithoutPort,
  type ExposePortResult,
  type ExposedPortInfo,
} from "@atoll/protocol";
import type { SandboxRuntime } from "../contracts.js";
import { tcpProbe } from "./probe.js";
import type { PortStore } from "./store.js";
import { generateToken, tokenMatches } from "./tokens.js";

export interface PortServiceOptions {
  store: PortStore;
  runtime: SandboxRuntime;
  /** The port the control plane listens on (used in localhost preview URLs). */
  serverPort: () => number;
  /** "https" (default) or "http": scheme of preview URLs on non-localhost domains. */
  publicProtocol?: "http" | "https";
}

export class PortService {
  constructor(private readonly o: PortServiceOptions) {}

  private requireSandbox(id: string): void {
    assertSandboxId(id);
    if (!this.o.runtime.exists(id)) throw new AtollError(ErrorCode.SANDBOX_NOT_FOUND, `Cannot use sandbox ${id}: it does not exist`, { id });
  }

  /** The preview URL of an exposed port for a hostname like "localhost:8787" or "preview.example.com". */
  url(sandboxId: string, port: number, token: string, hostname: string): string {
    const explicit = /:(\d+)$/.exec(hostname.trim());
    const bare = hostWithoutPort(hostname);
    const local = bare === "localhost" || bare === "127.0.0.1" || bare === "[::1]";
    const serverPort = explicit ? Number(explicit[1]) : local ? this.o.serverPort() : undefined;
    const protocol = this.o.publicProtocol ?? "https";
    return formatPreviewUrl({ port, sandboxId, token }, hostname, { serverPort, protocol });
  }

  expose(sandboxId: string, port: unknown, opts: { name?: string; hostname: string }): ExposePortResult {
    this.requireSandbox(sandboxId);
    assertExposablePort(port);
    if (opts.name !== undefined && (typeof opts.name !== "string" || opts.name.length > 200)) {
      throw new AtollError(ErrorCode.VALIDATION_FAILED, "Cannot expose port: name must be a string of at most 200 chars", { port });
    }
    if (this.o.store.get(sandboxId, port)) {
      throw new AtollError(ErrorCode.PORT_ALREADY_EXPOSED, `Cannot expose port ${port}: it is already exposed`, { port, sandboxId });
    }
    const token = generateToken();
    this.o.store.add({ sandboxId, port, token, name: opts.name, createdAt: new Date().toISOString() });
    const result: ExposePortResult = { url: this.url(sandboxId, port, token, opts.hostname), port };
    if (opts.name !== undefined) result.name = opts.name;
    return result;
  }

  unexpose(sandboxId: string, port: unknown): void {
    this.requireSandbox(sandboxId);
    assertExposablePort(port);
    if (!this.o.store.remove(sandboxId, port)) {
      throw new AtollError(ErrorCode.PORT_NOT_EXPOSED, `Cannot unexpose port ${port}: it is not exposed`, { port, sandboxId });
    }
  }

  async list(sandboxId: string, hostname: string): Promise<ExposedPortInfo[]> {
    this.requireSandbox(sandboxId);
    const recs = this.o.store.list(sandboxId);
    if (recs.length === 0) return [];
    let host: string | undefined;
    try {
      host = (await this.o.runtime.endpoint(sandboxId)).host;
    } catch {
      host = undefined; // cannot start it: every port is inactive
    }
    return Promise.all(
      recs.map(async (r) => {
        const info: ExposedPortInfo = {
          url: this.url(sandboxId, r.port, r.token, hostname),
          port: r.port,
          status: host && (await tcpProbe(host, r.port)) ? "active" : "inactive",
        };
        if (r.name !== undefined) info.name = r.name;
        return info;
      }),
    );
  }

  /**
   * True when `token` opens `port` of `sandboxId`. Wrong token, unexposed port and unknown sandbox
   * take the same path and the same time (one constant-time compare) and give the same answer.
   */
  authorize(sandboxId: string, port: number, token: string): boolean {
    const rec = this.o.store.get(sandboxId, port);
    const ok = tokenMatches(token, rec?.token);
    return ok && this.o.runtime.exists(sandboxId);
  }

  /** Forget every exposed port of a sandbox; the manager calls this when it destroys one. */
  forgetSandbox(sandboxId: string): void {
    this.o.store.removeAll(sandboxId);
  }
}
