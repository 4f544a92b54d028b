// The bounded wait for a template's first port (templates/ready.ts), against loopback servers.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { describe, it } from "node:test";
import { configFromEnv } from "../src/config.js";
import { waitForFirstPort } from "../src/templates/ready.js";

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe("template port wait", () => {
  it("resolves once the first port starts listening", async () => {
    const port = await freePort();
    let server: Server | undefined;
    const timer = setTimeout(() => (server = createServer().listen(port, "127.0.0.1")), 300);
    try {
      const waited = await waitForFirstPort("127.0.0.1", [port, 1], 5000);
      assert.ok(waited !== null && waited >= 250, `waited ${waited}`);
    } finally {
      clearTimeout(timer);
      server?.close();
    }
  });

  it("gives up after the timeout and skips templates without ports", async () => {
    const port = await freePort();
    const t0 = Date.now();
    assert.equal(await waitForFirstPort("127.0.0.1", [port], 300), null);
    assert.ok(Date.now() - t0 >= 300 && Date.now() - t0 < 2000);
    assert.equal(await waitForFirstPort("127.0.0.1", [], 5000), null);
    assert.equal(await waitForFirstPort("127.0.0.1", [port], 0), null);
  });

  it("reads ATOLL_TEMPLATE_PORT_WAIT_MS", () => {
    assert.equal(configFromEnv({ ATOLL_TEMPLATE_PORT_WAIT_MS: "250" }).templatePortWaitMs, 250);
    assert.throws(() => configFromEnv({ ATOLL_TEMPLATE_PORT_WAIT_MS: "nope" }), /Cannot read ATOLL_TEMPLATE_PORT_WAIT_MS/);
    assert.equal(configFromEnv({}).templatePortWaitMs, 10_000);
  });
});
