// The /v1 declaration (@atoll/protocol/v1) against the real server: every route in the server's
// route table is declared and every declared route exists; GET /v1/openapi.json serves the
// document generated from the declaration; docs/openapi.json is current; the document validates.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import { VERSION } from "@atoll/protocol";
import { V1_ROUTES, openApiDocument } from "@atoll/protocol/v1";
import { createApp, type App } from "../src/app.js";
import { makeConfig } from "../src/config.js";
import { silentLogger } from "../src/log.js";
import { FakeDriver } from "./fake-driver.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-openapi-"));
const driver = new FakeDriver();
let app: App | undefined;
let url = "";
after(async () => {
  await app?.close();
  await driver.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function boot(): Promise<{ app: App; url: string }> {
  app = await createApp(makeConfig({ dataDir: dir, port: 0, host: "127.0.0.1", apiKey: "k-test", baseImage: "/nonexistent" }), { driver, log: silentLogger });
  url = await app.listen();
  return { app, url };
}

test("every /v1 route of the server is declared, and every declared route is served", async () => {
  const { app } = await boot();
  const served = new Set(app.routes.filter((r) => r.path === "/v1" || r.path.startsWith("/v1/")).map((r) => `${r.method} ${r.path}`));
  const declared = new Set(V1_ROUTES.map((r) => `${r.method} ${r.path}`));
  assert.deepEqual([...served].filter((r) => !declared.has(r)), [], "routes served without a declaration in packages/protocol/src/v1/routes.ts");
  assert.deepEqual([...declared].filter((r) => !served.has(r)), [], "routes declared that the server does not serve");
  // auth: what the declaration says is what the server enforces
  for (const r of app.routes.filter((r) => r.path.startsWith("/v1/"))) {
    const d = V1_ROUTES.find((x) => x.method === r.method && x.path === r.path)!;
    assert.equal(r.auth !== false, d.auth !== false, `auth of ${r.method} ${r.path}`);
  }
});

test("GET /v1/openapi.json (no key) serves the generated document; health reports the one VERSION", async () => {
  if (!app) await boot();
  const res = await fetch(`${url}/v1/openapi.json`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), openApiDocument());
  const h = (await (await fetch(`${url}/v1/health`)).json()) as { version: string };
  assert.equal(h.version, VERSION);
});

test("docs/openapi.json is current (regenerate with `npm run openapi`)", () => {
  const committed = JSON.parse(readFileSync(new URL("../../../docs/openapi.json", import.meta.url), "utf8"));
  assert.deepEqual(committed, openApiDocument(), "docs/openapi.json differs from the declaration: run `npm run openapi`");
});

test("the document is valid OpenAPI 3.1 and describes every declared route with its auth", async () => {
  const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> };
  assert.equal(doc.openapi, "3.1.0");
  await SwaggerParser.validate(structuredClone(doc) as never);
  for (const r of V1_ROUTES) {
    const p = r.path.replace(/\/:([a-zA-Z]+)/g, "/{$1}").replace(/\/\*$/, `/{${r.restName}}`);
    const ops = doc.paths[p];
    assert.ok(ops, `path ${p}`);
    for (const m of r.method === "*" ? ["get", "post", "put", "delete"] : [r.method.toLowerCase()]) {
      assert.ok(ops[m], `${m} ${p}`);
      assert.equal(ops[m]!.security?.length === 0, r.auth === false, `security of ${m} ${p}`);
      assert.ok(ops[m]!.responses.default, `error response of ${m} ${p}`);
    }
  }
});

test("every workspace package.json carries the one VERSION", async () => {
  const { readdirSync } = await import("node:fs");
  for (const p of readdirSync(new URL("../../", import.meta.url))) {
    const pkg = JSON.parse(readFileSync(new URL(`../../${p}/package.json`, import.meta.url), "utf8")) as { version: string };
    assert.equal(pkg.version, VERSION, `packages/${p}/package.json`);
  }
});
