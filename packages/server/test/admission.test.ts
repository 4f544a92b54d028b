// Connection admission on a real front door (preview/admission.ts): which connection is shed at
// the total cap, when a new one is refused (503, 429), and the default cap from the fd limit.
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { openDatabase } from "../src/store/db.js";
import { ConnectionAdmission, defaultMaxConnections, openFileLimit } from "../src/preview/admission.js";
import { createFrontDoor } from "../src/preview/front-door.js";
import { PortService } from "../src/ports/service.js";
import { PortStore } from "../src/ports/store.js";
import { API_KEY, TestRuntime } from "./preview-helpers.js";

interface Conn {
  s: Socket;
  data(): string;
  closed: Promise<void>;
}

function open(port: number, from = "127.0.0.1"): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: "127.0.0.1", localAddress: from });
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    const closed = new Promise<void>((r) => s.once("close", () => r()));
    s.on("error", () => undefined);
    s.once("connect", () => resolve({ s, data: () => out, closed }));
    s.once("error", reject);
  });
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A front door with caps whose API holds /hold requests open (busy) as app.ts counts them. */
async function rig(o: { perAddress: number; total: number }) {
  const admission = new ConnectionAdmission(o);
  const held: ServerResponse[] = [];
  const api = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    admission.requestStarted(req.socket);
    res.once("close", () => admission.requestEnded(req.socket));
    if (req.url === "/hold") return void held.push(res);
    res.end("ok");
  });
  const runtime = new TestRuntime();
  const ports = new PortService({ store: new PortStore(openDatabase(":memory:")), runtime, serverPort: () => 0 });
  const door = createFrontDoor({ httpServer: api, runtime, ports, apiKey: API_KEY, domains: ["localhost"], admission });
  await new Promise<void>((r) => door.listen(0, "127.0.0.1", r));
  api.emit("listening");
  const port = (door.address() as AddressInfo).port;
  return {
    admission,
    port,
    release: () => held.splice(0).forEach((r) => r.end("done")),
    close: () => {
      held.splice(0).forEach((r) => r.destroy());
      api.closeAllConnections();
      door.close();
    },
  };
}

describe("connection admission", () => {
  let r: Awaited<ReturnType<typeof rig>>;
  const conns: Conn[] = [];
  before(async () => {
    r = await rig({ perAddress: 0, total: 4 });
  });
  after(() => {
    for (const c of conns) c.s.destroy();
    r.close();
  });

  it("at the total cap the oldest connection with nothing in flight makes room", async () => {
    for (let i = 0; i < 4; i++) conns.push(await open(r.port));
    await sleep(50);
    assert.equal(r.admission.size, 4);
    const fifth = await open(r.port);
    conns.push(fifth);
    await conns[0]!.closed; // the oldest idle one was shed
    fifth.s.write("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await fifth.closed;
    assert.match(fifth.data(), /^HTTP\/1\.1 200 /);
    assert.ok(r.admission.stats.shed >= 1);
  });

  it("busy connections are never shed: when all are busy a new one gets 503 SERVER_BUSY", async () => {
    for (const c of conns) c.s.destroy();
    conns.length = 0;
    await sleep(50);
    for (let i = 0; i < 4; i++) {
      const c = await open(r.port);
      c.s.write("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
      conns.push(c);
    }
    await sleep(100);
    const extra = await open(r.port);
    await extra.closed;
    assert.match(extra.data(), /^HTTP\/1\.1 503 /);
    assert.equal(JSON.parse(extra.data().slice(extra.data().indexOf("\r\n\r\n") + 4)).code, "SERVER_BUSY");
    for (const c of conns) assert.equal(c.s.destroyed, false, "a busy connection was shed");
    r.release();
    await sleep(100);
    // Once their requests finished they are idle and may be shed again.
    const next = await open(r.port);
    next.s.write("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await next.closed;
    assert.match(next.data(), /^HTTP\/1\.1 200 /);
  });
});

describe("per-address cap", () => {
  it("the connection over the cap gets 429 TOO_MANY_CONNECTIONS; another address is admitted", async () => {
    const r = await rig({ perAddress: 2, total: 0 });
    const mine = [await open(r.port, "127.0.0.5"), await open(r.port, "127.0.0.5")];
    try {
      const third = await open(r.port, "127.0.0.5");
      await third.closed;
      assert.match(third.data(), /^HTTP\/1\.1 429 /);
      const other = await open(r.port, "127.0.0.6");
      other.s.write("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      await other.closed;
      assert.match(other.data(), /^HTTP\/1\.1 200 /);
    } finally {
      for (const c of mine) c.s.destroy();
      r.close();
    }
  });
});

it("default total cap leaves two fds per connection and a reserve", () => {
  assert.equal(defaultMaxConnections(20_000), 9000);
  assert.equal(defaultMaxConnections(512), 192);
  assert.equal(defaultMaxConnections(undefined), 0);
  const lim = openFileLimit();
  assert.ok(lim === undefined || lim > 0);
});
