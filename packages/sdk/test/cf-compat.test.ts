// Source compatibility with @cloudflare/sandbox 0.4.18: the Sandbox and ExecutionSession handles
// must be assignable to Cloudflare's published ISandbox / ExecutionSession types (checked by the
// typecheck), and every method those interfaces declare must exist at runtime.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import type { ExecutionSession as CfExecutionSession, ISandbox as CfISandbox } from "@cloudflare/sandbox";
import { createClient, getSandbox, type ExecutionSession } from "../src/index.js";

const sandbox = getSandbox(createClient({ url: "http://127.0.0.1:1" }), "compat");
// Type-level: these assignments fail the typecheck if a signature drifts.
const asCf: CfISandbox = sandbox;
const sessionAsCf = (s: ExecutionSession): CfExecutionSession => s;
void sessionAsCf;

/** Method names declared in an interface of Cloudflare's published .d.ts. */
function declaredMethods(name: string): string[] {
  const require = createRequire(import.meta.url);
  const dts = readFileSync(require.resolve("@cloudflare/sandbox").replace(/index\.js$/, "index.d.ts"), "utf8");
  const start = dts.indexOf(`interface ${name} {`);
  assert.ok(start >= 0, `interface ${name} not found`);
  const body = dts.slice(start, dts.indexOf("\n}", start));
  return [...body.matchAll(/^\s{2}(\w+)\(/gm)].map((m) => m[1]!);
}

test("every ISandbox method of @cloudflare/sandbox 0.4.18 exists on Sandbox", () => {
  const names = declaredMethods("ISandbox");
  assert.ok(names.length >= 25, `parsed ${names.length} methods`);
  for (const n of names) assert.equal(typeof (asCf as unknown as Record<string, unknown>)[n], "function", n);
});

test("every ExecutionSession method exists on a session handle, and the handle has the id", async () => {
  const s = await sandbox.getSession("sess-x");
  assert.equal(s.id, "sess-x");
  for (const n of declaredMethods("ExecutionSession")) assert.equal(typeof (s as unknown as Record<string, unknown>)[n], "function", n);
});

test("Cloudflare's extra Sandbox methods used by apps exist too", () => {
  for (const n of ["setEnvVars", "setKeepAlive", "setSleepAfter", "destroy", "getSession", "exposePort", "unexposePort", "getExposedPorts", "cleanupCompletedProcesses"]) {
    assert.equal(typeof (sandbox as unknown as Record<string, unknown>)[n], "function", n);
  }
});
