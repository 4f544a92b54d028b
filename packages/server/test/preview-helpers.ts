// Test rig for the front door: a real front door on loopback, a real port store (SQLite in
// memory), a local "sandbox server" standing in for a server inside a sandbox, and a minimal
// SandboxRuntime that points every sandbox at 127.0.0.1.
import { openDatabase, type Db } from "../src/store/db.js";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import type { AddressInfo, Server, Socket } from "node:net";
import { AtollError, ErrorCode } from "@atoll/protocol";
import type { SandboxRuntime } from "../src/contracts.js";
import { PortService } from "../src/ports/service.js";
import { PortStore } from "../src/ports/store.js";
import { createFrontDoor } from "../src/preview/front-door.js";
import { proxyHttpHandler, proxyUpgradeHook } from "../src/preview/fallback.js";
import { replyError } from "../src/http.js";

export const API_KEY = "test-api-key-0123456789";

export class TestRuntime implements SandboxRuntime {
  readonly ids = new Set<string>();
  touches = 0;
  holds = 0;
  released = 0;
  failing = new Set<string>();
  exists(id: string): boolean {
    return this.ids.has(id);
  }
  async endpoint(id: string) {
    if (!this.ids.has(id)) throw new AtollError(ErrorCode.SANDBOX_NOT_FOUND, `Cannot find sandbox ${id}`);
    if (this.failing.has(id)) throw new AtollError(ErrorCode.SANDBOX_UNAVAILABLE, `Cannot start sandbox ${id}: test`);
    return { host: "127.0.0.1", agentPort: 3000 };
  }
  touch(): void {
    this.touches++;
  }
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (!done) this.released++;
      done = true;
    };
  }
}

export interface Rig {
  door: Server;
  doorPort: number;
  api: HttpServer;
  runtime: TestRuntime;
  ports: PortService;
  close(): Promise<void>;
}

/** Starts a front door whose non-preview connections go to a tiny "control plane" that answers {api:true}. */
export async function startRig(): Promise<Rig> {
  const runtime = new TestRuntime();
  const store = new PortStore(openDatabase(":memory:"));
  let doorPort = 0;
  const ports = new PortService({ store, runtime, serverPort: () => doorPort });
  // The "control plane": {api:true} for everything, except the /proxy fallback (as app.ts installs it).
  const fallback = { runtime, ports, apiKey: API_KEY, domains: ["localhost"] };
  const proxyHttp = proxyHttpHandler(fallback);
  const api = createHttpServer((req, res) => {
    if (/^\/v1\/sandboxes\/[^/]+\/proxy\//.test(req.url ?? "")) {
      res.setHeader("x-served-by", "fallback");
      return void proxyHttp({ req, res }).catch((e) => replyError(res, e));
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ api: true, url: req.url }));
  });
  const upgrade = proxyUpgradeHook(fallback);
  api.on("upgrade", (req, socket, head) => {
    if (!upgrade(req, socket as Socket, head)) socket.destroy();
  });
  const door = createFrontDoor({ httpServer: api, runtime, ports, apiKey: API_KEY, domains: ["localhost"] });
  await new Promise<void>((r) => door.listen(0, "127.0.0.1", r));
  doorPort = (door.address() as AddressInfo).port;
  return {
    door,
    doorPort,
    api,
    runtime,
    ports,
    close: async () => {
      door.close();
      api.closeAllConnections();
      await new Promise((r) => setImmediate(r));
    },
  };
}

export async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

export { send, type Res } from "./http-client.js";

export function previewHost(port: number, id: string, token: string, doorPort: number): string {
  return `${port}-${id}-${token}.localhost:${doorPort}`;
}

/** Exposes a port and returns the host name of its preview URL. */
export function expose(rig: Rig, id: string, port: number): { host: string; token: string } {
  rig.runtime.ids.add(id);
  const { url } = rig.ports.expose(id, port, { hostname: `localhost:${rig.doorPort}` });
  const host = new URL(url).host;
  const token = host.split(".")[0]!.slice(-16);
  return { host, token };
}
