// Runs every example in examples/ against a real control plane and real sandboxes.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import WebSocket from "ws";
import { startApp } from "../../examples/bun-echo/ws-connect.js";
import { echoViaPreview } from "../../examples/bun-echo/preview-client.js";
import { startFeedApp, type Reading } from "../../examples/realtime-feed/app.js";
import { startAtoll, waitFor, type Atoll } from "./harness.js";

let atoll: Atoll;
before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});
const conn = () => ({ url: atoll.url, apiKey: atoll.apiKey });

it("bun-echo/ws-connect: a Node app forwards its WebSocket upgrades to Bun in a sandbox", async () => {
  const { server, url } = await startApp(conn(), "ex-echo");
  try {
    const ws = new WebSocket(url + "room");
    const replies: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => {
        ws.send("one");
        ws.send(Buffer.from([7, 8, 9]));
      });
      ws.on("message", (d, binary) => {
        replies.push(binary ? `bin:${[...(d as Buffer)].join(",")}` : d.toString());
        if (replies.length === 2) ws.close(4010);
      });
      ws.on("close", (code) => (code === 4010 ? resolve() : reject(new Error(`closed ${code}`))));
      ws.on("error", reject);
    });
    assert.deepEqual(replies, ["one", "bin:7,8,9"]);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

it("bun-echo/preview-client: the echo server as a preview URL, reached with the ws package", async () => {
  const { url, replies } = await echoViaPreview(conn(), ["a", "b", "c"], "ex-preview");
  assert.match(url, /^http:\/\/8080-ex-preview-[a-z0-9_-]{16}\.localhost:\d+\/$/);
  assert.deepEqual(replies, ["a", "b", "c"]);
});

it("realtime-feed: an HTTP app serving data it reads from a sandbox WebSocket", async () => {
  const app = await startFeedApp(conn(), "ex-feed");
  try {
    const readings = (await waitFor(
      "five readings",
      async () => {
        const r = (await (await fetch(`${app.url}/latest`)).json()) as { readings: Reading[] };
        return r.readings.length >= 5 ? r.readings : undefined;
      },
      10_000,
      100,
    )) as Reading[];
    for (let i = 1; i < readings.length; i++) assert.equal(readings[i]!.seq, readings[i - 1]!.seq + 1, "in order, none lost");
    assert.equal(typeof readings[0]!.value, "number");
  } finally {
    await app.close();
  }
});
