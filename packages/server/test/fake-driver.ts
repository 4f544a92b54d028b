// An in-process Driver for control-plane unit tests: each "sandbox" is a small loopback HTTP
// server with test routes (echo, SSE, hang, headers). Real-sandbox behaviour is covered by
// tests/e2e; this isolates the manager, lifecycle and forwarder and makes them observable.
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Driver, DriverSandbox, DriverState, SandboxSpec } from "../src/drivers/types.js";

interface FakeBox {
  spec: SandboxSpec;
  state: DriverState;
  server?: http.Server;
  port?: number;
  /** Requests to /api/hang whose client side was closed. */
  aborted: number;
  /** The agent key of the current instance (new on every start, like the oci driver's). */
  agentKey?: string;
  /** Bodies of POST /api/session/create received, across restarts. */
  sessionCreates: Record<string, unknown>[];
}

export class FakeDriver implements Driver {
  readonly name = "fake";
  readonly boxes = new Map<string, FakeBox>();
  readonly calls: string[] = [];
  /** Delay of start() in ms (widens race windows). */
  startDelayMs = 20;
  /** Delay of snapshot() in ms (a long copy). */
  snapshotDelayMs = 0;

  async init(): Promise<void> {}

  async start(spec: SandboxSpec): Promise<DriverSandbox> {
    this.calls.push(`start:${spec.id}`);
    await new Promise((r) => setTimeout(r, this.startDelayMs));
    let box = this.boxes.get(spec.id);
    if (!box) {
      box = { spec, state: "stopped", aborted: 0, sessionCreates: [] };
      this.boxes.set(spec.id, box);
    }
    box.spec = spec;
    if (box.state !== "running") {
      box.server = await listen(box);
      box.port = (box.server.address() as AddressInfo).port;
      box.agentKey = randomBytes(16).toString("hex");
      box.state = "running";
    }
    return this.view(spec.id);
  }

  async stop(id: string): Promise<void> {
    this.calls.push(`stop:${id}`);
    const box = this.boxes.get(id);
    if (!box) return;
    await closeServer(box.server);
    box.server = undefined;
    box.state = "stopped";
  }

  async pause(id: string): Promise<void> {
    this.calls.push(`pause:${id}`);
    const box = this.boxes.get(id);
    if (box) box.state = "paused";
  }

  async resume(id: string): Promise<void> {
    this.calls.push(`resume:${id}`);
    const box = this.boxes.get(id);
    if (box && box.state === "paused") box.state = "running";
  }

  async destroy(id: string): Promise<void> {
    this.calls.push(`destroy:${id}`);
    const box = this.boxes.get(id);
    if (!box) return;
    await closeServer(box.server);
    this.boxes.delete(id);
  }

  async inspect(id: string): Promise<DriverSandbox> {
    return this.view(id);
  }

  async list(): Promise<string[]> {
    return [...this.boxes.keys()];
  }

  async snapshot(id: string, _destDir: string): Promise<{ sizeBytes: number }> {
    this.calls.push(`snapshot:${id}`);
    await new Promise((r) => setTimeout(r, this.snapshotDelayMs));
    mkdirSync(_destDir, { recursive: true });
    return { sizeBytes: 42 };
  }

  async close(): Promise<void> {}

  /** Test helper: shuts every box's server (end of a test file). */
  async shutdown(): Promise<void> {
    for (const b of this.boxes.values()) await closeServer(b.server);
    this.boxes.clear();
  }

  private view(id: string): DriverSandbox {
    const box = this.boxes.get(id);
    if (!box) return { id, state: "missing" };
    return { id, state: box.state, ...(box.state === "running" || box.state === "paused" ? { endpoint: { host: "127.0.0.1", agentPort: box.port!, agentKey: box.agentKey } } : {}) };
  }
}

function closeServer(s?: http.Server): Promise<void> {
  if (!s) return Promise.resolve();
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

function listen(box: FakeBox): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    switch (url.pathname) {
      case "/api/headers":
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ headers: req.headers, url: req.url, method: req.method, env: box.spec.env }));
        return;
      case "/api/echo":
        // Streams the request body straight back.
        res.writeHead(200, { "content-type": "application/octet-stream" });
        req.pipe(res);
        return;
      case "/api/sse": {
        // n events, one every `gap` ms; the first before the rest exist.
        const n = Number(url.searchParams.get("n") ?? 3);
        const gap = Number(url.searchParams.get("gap") ?? 100);
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        let i = 0;
        const tick = () => {
          res.write(`data: ${JSON.stringify({ i, at: Date.now() })}\n\n`);
          if (++i < n) setTimeout(tick, gap);
          else res.end();
        };
        tick();
        return;
      }
      case "/api/session/create":
      case "/api/session/delete":
      case "/api/env": {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          const b = JSON.parse(body || "{}");
          if (url.pathname === "/api/session/create") box.sessionCreates.push(b);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ success: true, id: b.id ?? "generated-1", sessionId: b.id ?? "generated-1" }));
        });
        return;
      }
      case "/api/hang":
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("started\n");
        res.on("close", () => box.aborted++);
        return;
      default:
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: "NOT_FOUND", message: "no such fake route", context: {}, httpStatus: 404 }));
    }
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}
