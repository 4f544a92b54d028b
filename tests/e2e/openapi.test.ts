// The /v1 declaration (@atoll/protocol/v1) against a real server and real sandboxes: every JSON
// answer of every route — successes and errors — is checked at run time (TypeBox Value) against
// the schema the declaration (and so the OpenAPI document) gives for that route and status.
// Response objects are closed, so a field the server sends without declaring it fails here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { FormatRegistry } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { RouteTable } from "@atoll/protocol";
import { V1_ROUTES, schemas, type V1Route } from "@atoll/protocol/v1";
import { startAtoll, type Atoll } from "./harness.js";

let atoll: Atoll;
const table = new RouteTable<V1Route>().add(V1_ROUTES.map((r) => ({ method: r.method, path: r.path, handler: r })));
const checked = new Set<string>();
// TypeBox checks formats it is told about (RFC 3339 date-time, as the schemas declare).
FormatRegistry.Set("date-time", (v) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v)));

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
});

/** Calls the server and checks the JSON answer against the declared schema of that route and status. */
async function call(method: string, path: string, body?: unknown, expectStatus?: number, noAuth = false) {
  const r = await atoll.json(method, path, body, { noAuth, signal: AbortSignal.timeout(60_000) });
  if (expectStatus !== undefined) assert.equal(r.status, expectStatus, `${method} ${path}: ${JSON.stringify(r.body)}`);
  const m = table.match(method, path.split("?")[0]!);
  assert.equal(m.kind, "match", `${method} ${path} is declared`);
  const route = (m as { handler: V1Route }).handler;
  const schema = r.status < 400 ? route.responses[r.status]?.schema : schemas.ErrorResponse;
  assert.ok(schema, `${method} ${route.path} declares a JSON body for status ${r.status}`);
  const errors = [...Value.Errors(schema, r.body)].map((e) => `${e.path || "/"}: ${e.message}`);
  assert.deepEqual(errors, [], `${method} ${path} → ${r.status} ${JSON.stringify(r.body).slice(0, 400)}`);
  checked.add(`${route.method} ${route.path} ${r.status}`);
  return r.body;
}

test("every JSON route's real answers match the declared schemas (successes and errors)", async () => {
  await call("GET", "/v1/health", undefined, 200, true);
  const doc = await call("GET", "/v1/openapi.json", undefined, 200, true);
  assert.equal(doc.openapi, "3.1.0");
  await call("GET", "/v1/sandboxes", undefined, 401, true);
  await call("PUT", "/v1/sandboxes/oa-box", { keepAlive: true, envVars: { A: "1" } }, 201);
  await call("PUT", "/v1/sandboxes/oa-box", {}, 200);
  await call("PUT", "/v1/sandboxes/Bad_Id", {}, 400);
  await call("GET", "/v1/sandboxes", undefined, 200);
  await call("GET", "/v1/sandboxes/oa-box", undefined, 200);
  await call("GET", "/v1/sandboxes/no-such-box", undefined, 404);
  await call("PATCH", "/v1/sandboxes/oa-box", { sleepAfter: "5m" }, 200);
  await call("POST", "/v1/sandboxes/oa-box/ports", { port: 8080, name: "web", hostname: "localhost" }, 200);
  await call("POST", "/v1/sandboxes/oa-box/ports", { port: 3000 }, 400);
  await call("GET", "/v1/sandboxes/oa-box/ports?hostname=localhost", undefined, 200);
  await call("DELETE", "/v1/sandboxes/oa-box/ports/8080", undefined, 200);
  await call("POST", "/v1/sandboxes/oa-box/pause", undefined, 200);
  await call("POST", "/v1/sandboxes/oa-box/resume", undefined, 200);
  await call("POST", "/v1/sandboxes/oa-box/snapshots", { name: "oa-snap" }, 201);
  await call("GET", "/v1/snapshots", undefined, 200);
  await call("DELETE", "/v1/snapshots/oa-snap", undefined, 200);
  await call("GET", "/v1/templates", undefined, 200);
  await call("POST", "/v1/templates", { name: "oa-t", source: { type: "rootfs", path: "/nonexistent" } }, undefined);
  await call("DELETE", "/v1/templates/no-such-template", undefined, undefined);
  await call("POST", "/v1/sandboxes/oa-box/sleep", undefined, 200);
  await call("DELETE", "/v1/sandboxes/oa-box", undefined, 200);
  // Every route with a declared JSON body was exercised with at least one success.
  const missing = V1_ROUTES.flatMap((r) => Object.entries(r.responses).filter(([, v]) => v.schema).map(([s]) => `${r.method} ${r.path} ${s}`)).filter((k) => !checked.has(k) && !k.startsWith("POST /v1/templates ") && !k.startsWith("DELETE /v1/templates/"));
  assert.deepEqual(missing, []);
});

test("the passed-through routes (agent, proxy) are reached as declared", async () => {
  await call("PUT", "/v1/sandboxes/oa-pass", {}, 201);
  const r = await atoll.json("POST", "/v1/sandboxes/oa-pass/api/execute", { command: "echo hi" });
  assert.equal(r.status, 200);
  assert.equal(r.body.stdout, "hi\n");
  assert.equal(table.match("POST", "/v1/sandboxes/oa-pass/api/execute").kind, "match");
  const p = await atoll.api("/v1/sandboxes/oa-pass/proxy/8080/");
  await p.arrayBuffer();
  assert.equal(table.match("GET", "/v1/sandboxes/oa-pass/proxy/8080/").kind, "match");
  assert.ok(p.status >= 400, "nothing listens on 8080: an error answer from the proxy route");
  await call("DELETE", "/v1/sandboxes/oa-pass", undefined, 200);
});
