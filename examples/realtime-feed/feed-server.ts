// @ts-nocheck — runs under Bun INSIDE the sandbox. A real-time data service: every 50 ms it
// publishes {seq, value, at} to every WebSocket subscriber of /feed.
const port = Number(process.env.PORT || 9000);
let seq = 0;
const server = Bun.serve({
  port,
  hostname: "0.0.0.0",
  fetch(req, srv) {
    if (new URL(req.url).pathname === "/feed" && srv.upgrade(req)) return;
    return new Response("subscribe to /feed with a WebSocket\n");
  },
  websocket: {
    open(ws) {
      ws.subscribe("feed");
    },
    message() {},
  },
});
setInterval(() => {
  seq++;
  server.publish("feed", JSON.stringify({ seq, value: Math.round(Math.sin(seq / 10) * 1000) / 1000, at: Date.now() }));
}, 50);
console.log(`feed server listening on ${port}`);
