// Example (c): an app that reads real-time data from a WebSocket service inside a sandbox
// (sandbox.connectWebSocket, authenticated with the API key — an outbound socket with no
// inbound request) and answers plain HTTP: GET /latest → the newest readings as JSON.
//   ATOLL_URL=... ATOLL_API_KEY=... node --import tsx examples/realtime-feed/app.ts
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, getSandbox } from "@atoll/sdk";
import { fromEnv, type Connection } from "../bun-echo/shared.js";

const FEED_PORT = 9000;

export interface Reading {
  seq: number;
  value: number;
  at: number;
}

export async function startFeedApp(conn: Connection, sandboxId = "realtime-feed"): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const sandbox = getSandbox(createClient(conn), sandboxId);
  await sandbox.writeFile("/workspace/feed-server.ts", readFileSync(new URL("./feed-server.ts", import.meta.url), "utf8"));
  const proc = await sandbox.startProcess("bun run feed-server.ts", { cwd: "/workspace", env: { PORT: String(FEED_PORT) } });
  await proc.waitForLog(`listening on ${FEED_PORT}`, 20_000);

  const latest: Reading[] = [];
  const feed = await sandbox.connectWebSocket(FEED_PORT, "/feed");
  feed.addEventListener("message", (e) => {
    latest.push(JSON.parse(String(e.data)) as Reading);
    if (latest.length > 20) latest.shift();
  });

  const server = createServer((req, res) => {
    if (req.url === "/latest") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify({ readings: latest }));
    }
    res.writeHead(404).end("try GET /latest\n");
  });
  await new Promise<void>((r) => server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      feed.close();
      await new Promise<void>((r) => server.close(() => r()));
      await proc.kill();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await startFeedApp(fromEnv());
  console.log(`latest readings at ${url}/latest`);
}
