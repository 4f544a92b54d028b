import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, proxyToSandbox } from "../src/index.js";
import { fakeServer, json } from "./helpers.js";

const TOKEN = "abcdefgh_jk-mnop";

test("non-preview hosts return null without any request", async (t) => {
  const srv = await fakeServer((_r, res) => json(res, 200, {}));
  t.after(() => srv.close());
  const client = createClient({ url: srv.url, apiKey: "k" });
  const hosts = [
    "example.com",
    "localhost:8787",
    `8080-box-${TOKEN}`, // no domain
    `3000-box-${TOKEN}.localhost`, // agent port is never a preview port
    `80-box-${TOKEN}.localhost`, // below 1024
    `8080-box-short.localhost`, // token too short
    `8080-BOX-${TOKEN}.localhost:8787`.replace("BOX", "b_x"), // bad id
    `a.8080-box-${TOKEN}.localhost`, // extra label
  ];
  for (const host of hosts) {
    const req = new Request("http://placeholder.invalid/", { headers: { host } });
    assert.equal(await proxyToSandbox(req, client), null, host);
  }
  assert.equal(srv.requests.length, 0);
});

test("a preview host is forwarded to /v1/sandboxes/:id/proxy/:port/<path> with the token and API key", async (t) => {
  const srv = await fakeServer((r, res) => {
    res.writeHead(201, { "content-type": "text/plain", "x-up": "1" });
    res.end(`echo ${r.method} ${r.body}`);
  });
  t.after(() => srv.close());
  const client = createClient({ url: srv.url, apiKey: "secret" });
  const host = `8080-my-box-2-${TOKEN}.localhost:8787`;
  const req = new Request(`http://${host}/a/b?c=d%20e`, { method: "POST", body: "payload", headers: { host, authorization: "Bearer user-token", "x-custom": "v" } });
  const res = await proxyToSandbox(req, client);
  assert.ok(res);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-up"), "1");
  assert.equal(await res.text(), "echo POST payload");
  const r = srv.requests[0]!;
  assert.equal(r.url, "/v1/sandboxes/my-box-2/proxy/8080/a/b?c=d%20e");
  assert.equal(r.headers["x-atoll-preview-token"], TOKEN);
  assert.equal(r.headers.authorization, "Bearer secret");
  assert.equal(r.headers["x-custom"], "v");
  assert.equal(r.headers["x-forwarded-host"], host);
});

test("with previewDomains set, only those domains are preview hosts", async (t) => {
  const srv = await fakeServer((_r, res) => json(res, 200, { ok: true }));
  t.after(() => srv.close());
  const client = createClient({ url: srv.url, previewDomains: ["preview.example.com"] });
  const other = `8080-box-${TOKEN}.evil.example.com`;
  assert.equal(await proxyToSandbox(new Request(`http://${other}/`, { headers: { host: other } }), client), null);
  const good = `8080-box-${TOKEN}.preview.example.com`;
  const res = await proxyToSandbox(new Request(`https://${good}/x`, { headers: { host: good } }), client);
  assert.equal(res?.status, 200);
  assert.equal(srv.requests[0]!.url, "/v1/sandboxes/box/proxy/8080/x");
});

test("an unreachable control plane answers 503 with an error body instead of throwing", async () => {
  const srv = await fakeServer(() => {});
  const url = srv.url;
  await srv.close();
  const host = `8080-box-${TOKEN}.localhost`;
  const res = await proxyToSandbox(new Request(`http://${host}/`, { headers: { host } }), createClient({ url }));
  assert.equal(res?.status, 503);
  assert.equal(((await res!.json()) as { code: string }).code, "SANDBOX_UNAVAILABLE");
});

test("a WebSocket upgrade outside Workers answers 400 with a pointer to wsConnectNode, without forwarding", async (t) => {
  const srv = await fakeServer((_r, res) => json(res, 200, {}));
  t.after(() => srv.close());
  const host = `8080-box-${TOKEN}.localhost`;
  const res = await proxyToSandbox(new Request(`http://${host}/ws`, { headers: { host, upgrade: "websocket" } }), createClient({ url: srv.url }));
  assert.equal(res?.status, 400);
  assert.match(((await res!.json()) as { message: string }).message, /wsConnectNode/);
  assert.equal(srv.requests.length, 0);
});

test("a Host rewritten by a front end (Miniflare, local proxies): the preview name in the URL is used", async (t) => {
  const srv = await fakeServer((_r, res) => json(res, 200, { ok: true }));
  t.after(() => srv.close());
  const client = createClient({ url: srv.url, apiKey: "k" });
  const name = `8080-box-${TOKEN}.localhost:8787`;
  const res = await proxyToSandbox(new Request(`http://${name}/p?q=1`, { headers: { host: "127.0.0.1:40000" } }), client);
  assert.equal(res?.status, 200);
  assert.equal(srv.requests[0]!.url, "/v1/sandboxes/box/proxy/8080/p?q=1");
  assert.equal(srv.requests[0]!.headers["x-forwarded-host"], name);
  assert.equal(await proxyToSandbox(new Request("http://localhost:40000/", { headers: { host: "127.0.0.1:40000" } }), client), null);
});
