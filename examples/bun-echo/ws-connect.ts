// Example (a): your Node app accepts WebSockets and hands each upgrade to the echo server
// inside a sandbox with wsConnectNode (the Node form of sandbox.wsConnect). Browsers talk to
// your app; your app holds the API key; the sandbox stays private.
//   ATOLL_URL=... ATOLL_API_KEY=... node --import tsx examples/bun-echo/ws-connect.ts
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { wsConnectNode } from "@atoll/sdk/node";
import { ECHO_PORT, fromEnv, startEchoServer, type Connection } from "./shared.js";

export async function startApp(conn: Connection, sandboxId = "bun-echo"): Promise<{ server: Server; url: string }> {
  const sandbox = await startEchoServer(conn, sandboxId);
  const server = createServer((_req, res) => res.end("connect a WebSocket to this server\n"));
  server.on("upgrade", (req, socket, head) => {
    wsConnectNode(sandbox, ECHO_PORT, req, socket, head).catch((e) => console.error(`Cannot forward WebSocket: ${(e as Error).message}`));
  });
  await new Promise<void>((r) => server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", r));
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url } = await startApp(fromEnv());
  console.log(`WebSocket echo (through a sandbox) at ${url}`);
}
