// Example (b): expose the echo server as a preview URL and talk to it with the `ws` package,
// like any browser or client on the internet would (no API key: the URL's token is the key).
//   ATOLL_URL=... ATOLL_API_KEY=... node --import tsx examples/bun-echo/preview-client.ts
import WebSocket from "ws";
import { ECHO_PORT, fromEnv, startEchoServer, type Connection } from "./shared.js";

/** Opens a WebSocket to a preview URL. *.localhost names are dialled on 127.0.0.1 (Node's resolver does not map them). */
export function openPreviewSocket(previewUrl: string, path = "/"): WebSocket {
  const u = new URL(previewUrl);
  const wsUrl = `ws://${u.hostname.endsWith(".localhost") ? "127.0.0.1" : u.hostname}${u.port ? ":" + u.port : ""}${path}`;
  return new WebSocket(wsUrl, { headers: { host: u.host } });
}

export async function echoViaPreview(conn: Connection, messages: string[], sandboxId = "bun-echo-preview"): Promise<{ url: string; replies: string[] }> {
  const sandbox = await startEchoServer(conn, sandboxId);
  const existing = (await sandbox.getExposedPorts()).find((p) => p.port === ECHO_PORT);
  const url = existing?.url ?? (await sandbox.exposePort(ECHO_PORT, { name: "echo" })).url;
  const ws = openPreviewSocket(url, "/chat");
  const replies: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on("open", () => messages.forEach((m) => ws.send(m)));
    ws.on("message", (d) => {
      replies.push(d.toString());
      if (replies.length === messages.length) ws.close();
    });
    ws.on("close", () => resolve());
    ws.on("error", reject);
  });
  return { url, replies };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { url, replies } = await echoViaPreview(fromEnv(), ["hello", "from", "a preview URL"]);
  console.log(`preview URL: ${url}\nreplies: ${replies.join(" | ")}`);
}
