// The JavaScript cell rewrite, evaluated with node:vm in a fresh context per case.
import assert from "node:assert/strict";
import vm from "node:vm";
import { test } from "node:test";
import { transformCell, IMPORT_HELPER } from "../src/interpreter/js-runner/transform.js";

async function run(ctx: vm.Context, code: string): Promise<unknown> {
  const t = transformCell(code);
  for (const g of t.globals) if (!(g in ctx)) ctx[g] = undefined;
  const out = (await vm.runInContext(t.source, ctx)) as { v: unknown } | undefined;
  return out?.v;
}

test("declarations become globals that later cells see and may re-declare", async () => {
  const ctx = vm.createContext({});
  await run(ctx, "let a = 1; const { b, c: [d] } = { b: 2, c: [3] }; var e; class K {}; function f() { return a + b + d }");
  assert.equal(await run(ctx, "f()"), 6);
  assert.equal(await run(ctx, "let a = 10; a + typeof K"), "10function");
  assert.equal(await run(ctx, "f()"), 15);
});

test("the last expression statement is the value, parenthesised or with trailing comments", async () => {
  const ctx = vm.createContext({});
  assert.equal(JSON.stringify(await run(ctx, "({ x: 1 })")), '{"x":1}');
  assert.equal(await run(ctx, "1 + 1 // two"), 2);
  assert.equal(await run(ctx, "1, 2, 3;"), 3);
  assert.equal(await run(ctx, "let z = 4"), undefined);
  assert.equal(await run(ctx, "'use strict'"), undefined, "a directive is not a value");
  assert.equal(await run(ctx, "#!/usr/bin/env node\n5"), 5);
});

test("top-level await and static imports go through the import helper", async () => {
  const seen: string[] = [];
  const ctx = vm.createContext({ [IMPORT_HELPER]: async (s: string) => (seen.push(s), { default: "D", named: "N" }) });
  assert.equal(await run(ctx, "import d, { named as n } from 'mod'; const v = await Promise.resolve(d + n); v"), "DN");
  assert.deepEqual(seen, ["mod", "mod"]);
  assert.equal(await run(ctx, "v + n"), "DNN");
});

test("a syntax error throws before anything runs", () => {
  assert.throws(() => transformCell("let = = 1"), SyntaxError);
});
