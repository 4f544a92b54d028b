// @ts-nocheck — runs under Bun INSIDE the sandbox (`bun run echo-server.ts`), not under Node.
// HTTP answers "echo server"; WebSocket upgrades echo every message back.
const port = Number(process.env.PORT || 8080);
Bun.serve({
  port,
  hostname: "0.0.0.0",
  fetch(req, server) {
    if (server.upgrade(req)) return;
    return new Response("echo server\n");
  },
  websocket: {
    message(ws, message) {
      ws.send(message);
    },
  },
});
console.log(`echo server listening on ${port}`);
