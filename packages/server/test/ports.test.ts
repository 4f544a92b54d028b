// Ports and tokens: token format and comparison, expose/unexpose rules and errors, preview URL
// formatting, and tokens persisted across a store re-open (control-plane restart).
import assert from "node:assert/strict";
import { openDatabase, type Db } from "../src/store/db.js";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, it } from "node:test";
import { AtollError } from "@atoll/protocol";
import { PortService } from "../src/ports/service.js";
import { PortStore } from "../src/ports/store.js";
import { generateToken, secretEquals, tokenMatches } from "../src/ports/tokens.js";
import { TestRuntime } from "./preview-helpers.js";

function service(db = openDatabase(":memory:"), serverPort = 8787) {
  const runtime = new TestRuntime();
  runtime.ids.add("box");
  return { runtime, svc: new PortService({ store: new PortStore(db), runtime, serverPort: () => serverPort }) };
}
const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as AtollError).code;
  }
  return "none";
};

describe("tokens", () => {
  it("16 chars of [a-z0-9_] (no '-'), all different, every symbol used", () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = generateToken();
      assert.match(t, /^[a-z0-9_]{16}$/);
      seen.add(t);
      for (const c of t) chars.add(c);
    }
    assert.equal(seen.size, 2000);
    assert.equal(chars.size, 37);
  });

  it("tokenMatches: exact match only; a missing token never matches", () => {
    const t = generateToken();
    assert.equal(tokenMatches(t, t), true);
    assert.equal(tokenMatches(t.slice(0, 15) + (t[15] === "a" ? "b" : "a"), t), false);
    assert.equal(tokenMatches(t + "x", t), false);
    assert.equal(tokenMatches(t.slice(0, 10), t), false);
    assert.equal(tokenMatches("\0".repeat(16), undefined), false);
    assert.equal(tokenMatches(t, undefined), false);
  });

  it("secretEquals compares whole secrets", () => {
    assert.equal(secretEquals("abc", "abc"), true);
    assert.equal(secretEquals("ab", "abc"), false);
    assert.equal(secretEquals("abcd", "abc"), false);
    assert.equal(secretEquals("", "abc"), false);
  });
});

describe("PortService", () => {
  it("expose → URL on localhost with the server's port; list; unexpose", async () => {
    const { svc } = service();
    const r = svc.expose("box", 8080, { name: "web", hostname: "localhost" });
    assert.match(r.url, /^http:\/\/8080-box-[a-z0-9_-]{16}\.localhost:8787\/$/);
    assert.deepEqual({ port: r.port, name: r.name }, { port: 8080, name: "web" });
    const list = await svc.list("box", "localhost:9999");
    assert.equal(list.length, 1);
    assert.match(list[0]!.url, /\.localhost:9999\/$/);
    assert.equal(list[0]!.status, "inactive"); // nothing listens on 127.0.0.1:8080 in this test
    svc.unexpose("box", 8080);
    assert.deepEqual(await svc.list("box", "localhost"), []);
  });

  it("custom domains get https URLs (and keep an explicit port)", () => {
    const { svc } = service();
    assert.match(svc.expose("box", 8080, { hostname: "preview.example.com" }).url, /^https:\/\/8080-box-[a-z0-9_-]{16}\.preview\.example\.com\/$/);
    assert.match(svc.expose("box", 8081, { hostname: "preview.example.com:8443" }).url, /^https:\/\/8081-box-[a-z0-9_-]{16}\.preview\.example\.com:8443\/$/);
  });

  it("errors: INVALID_PORT, PORT_ALREADY_EXPOSED, PORT_NOT_EXPOSED, SANDBOX_NOT_FOUND", () => {
    const { svc } = service();
    for (const p of [3000, 1023, 80, 65536, 8080.5, "8080", -1, NaN]) assert.equal(code(() => svc.expose("box", p, { hostname: "localhost" })), "INVALID_PORT", String(p));
    svc.expose("box", 8080, { hostname: "localhost" });
    assert.equal(code(() => svc.expose("box", 8080, { hostname: "localhost" })), "PORT_ALREADY_EXPOSED");
    assert.equal(code(() => svc.unexpose("box", 9090)), "PORT_NOT_EXPOSED");
    assert.equal(code(() => svc.unexpose("box", 3000)), "INVALID_PORT");
    assert.equal(code(() => svc.expose("nope", 8080, { hostname: "localhost" })), "SANDBOX_NOT_FOUND");
    assert.equal(code(() => svc.expose("Bad_ID", 8080, { hostname: "localhost" })), "INVALID_SANDBOX_ID");
  });

  it("authorize: per port, per sandbox; forgotten with the sandbox", () => {
    const { svc, runtime } = service();
    runtime.ids.add("other");
    const t = /-([a-z0-9_-]{16})\./.exec(svc.expose("box", 8080, { hostname: "localhost" }).url)![1]!;
    svc.expose("box", 8081, { hostname: "localhost" });
    svc.expose("other", 8080, { hostname: "localhost" });
    assert.equal(svc.authorize("box", 8080, t), true);
    assert.equal(svc.authorize("box", 8081, t), false);
    assert.equal(svc.authorize("other", 8080, t), false);
    svc.forgetSandbox("box");
    assert.equal(svc.authorize("box", 8080, t), false);
  });

  it("tokens survive a restart (store re-opened on the same file)", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-ports-"));
    try {
      const file = path.join(dir, "atoll.db");
      const a = service(openDatabase(file));
      const url = a.svc.expose("box", 8080, { hostname: "localhost" }).url;
      const t = /-([a-z0-9_-]{16})\./.exec(url)![1]!;
      const b = service(openDatabase(file));
      assert.equal(b.svc.authorize("box", 8080, t), true);
      assert.equal(code(() => b.svc.expose("box", 8080, { hostname: "localhost" })), "PORT_ALREADY_EXPOSED");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
