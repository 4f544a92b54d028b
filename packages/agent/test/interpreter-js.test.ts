// JavaScript and TypeScript code contexts through the agent's HTTP API, with real Node executors.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { call, createContext, runCode, startAgent, type Agent } from "./interpreter-helpers.js";

describe("interpreter: javascript and typescript", () => {
  let agent: Agent;
  let js: string;
  before(async () => {
    agent = await startAgent();
    js = await createContext(agent.base, { language: "javascript", cwd: "/tmp" });
  });
  after(() => agent?.close());

  test("top-level let/const/function/class persist, and re-declaring works", async () => {
    assert.equal((await runCode(agent.base, { context_id: js, code: "let x = 1; const k = 'c'; function dbl(v) { return v * 2 }; class P { hi() { return 'hi' } }" })).execError, undefined);
    const r = await runCode(agent.base, { context_id: js, code: "dbl(x) + k + new P().hi()" });
    assert.equal(r.results[0]?.text, "'2chi'");
    assert.equal(r.results[0]?.json, "2chi");
    const again = await runCode(agent.base, { context_id: js, code: "let x = 10; const k = 'd'; x + k" });
    assert.equal(again.execError, undefined, JSON.stringify(again.execError));
    assert.equal(again.results[0]?.json, "10d");
    const other = await createContext(agent.base, { language: "node", cwd: "/tmp" });
    assert.equal((await runCode(agent.base, { context_id: other, code: "typeof dbl" })).results[0]?.json, "undefined");
  });

  test("top-level await, console streaming and a json + text result", async () => {
    const r = await runCode(agent.base, {
      context_id: js,
      code: "for (let i = 0; i < 3; i++) { console.log('tick', i); await new Promise((r) => setTimeout(r, 250)); }\n({ n: await Promise.resolve(3), list: [1, 2] })",
    });
    const ticks = r.events.filter((e) => e.type === "stdout");
    assert.equal(ticks.length, 3);
    assert.ok(ticks[1]!.at - ticks[0]!.at > 150 && ticks[2]!.at - ticks[1]!.at > 150, JSON.stringify(ticks.map((t) => t.at)));
    assert.deepEqual(r.results[0]?.json, { n: 3, list: [1, 2] });
    assert.match(r.results[0]?.text, /n: 3/);
  });

  test("errors carry the error's name, message and stack", async () => {
    const r = await runCode(agent.base, { context_id: js, code: "null.prop" });
    assert.equal(r.execError?.ename, "TypeError");
    assert.ok(r.execError!.traceback[0].startsWith("TypeError"));
    const ref = await runCode(agent.base, { context_id: js, code: "\nnotDefinedAnywhere" });
    assert.equal(ref.execError?.ename, "ReferenceError");
    assert.ok(ref.execError!.traceback.some((l: string) => /cell\[\d+\]:2:/.test(l)), "stack points at the user's line");
    const syn = await runCode(agent.base, { context_id: js, code: "let = = 2" });
    assert.equal(syn.execError?.ename, "SyntaxError");
  });

  test("a timeout interrupts `while (true) {}` and the context keeps its state", { timeout: 20_000 }, async () => {
    await runCode(agent.base, { context_id: js, code: "var keep = 'kept'" });
    const r = await runCode(agent.base, { context_id: js, code: "while (true) {}", timeout_ms: 300 });
    assert.equal(r.execError?.ename, "TimeoutError");
    assert.equal(r.events.at(-1)?.timed_out, true);
    assert.equal((await runCode(agent.base, { context_id: js, code: "keep" })).results[0]?.json, "kept");
  });

  test("a client disconnect abandons an awaiting cell and the context stays usable", { timeout: 20_000 }, async () => {
    await runCode(agent.base, { context_id: js, code: "var survivor = 'still here'" });
    const ac = new AbortController();
    await assert.rejects(
      runCode(
        agent.base,
        { context_id: js, code: "console.log('waiting'); await new Promise(() => {})" },
        { signal: ac.signal, onEvent: (e) => e.type === "stdout" && ac.abort() },
      ),
    );
    const next = await runCode(agent.base, { context_id: js, code: "survivor" });
    assert.equal(next.results[0]?.json, "still here");
  });

  test("typescript: types are stripped, state persists, imports work", async () => {
    const ts = await createContext(agent.base, { language: "ts", cwd: "/tmp" });
    const a = await runCode(agent.base, { context_id: ts, code: "interface Box { v: number }\nconst b: Box = { v: 20 };\nimport * as os from 'node:os';" });
    assert.equal(a.execError, undefined, JSON.stringify(a.execError));
    const r = await runCode(agent.base, { context_id: ts, code: "const total: number = b.v + 2;\ntypeof os.platform() === 'string' ? total : -1" });
    assert.equal(r.results[0]?.json, 22);
    const bad = await runCode(agent.base, { context_id: ts, code: "let z: = 1" });
    assert.equal(bad.execError?.ename, "SyntaxError");
    const late = await runCode(agent.base, { context_id: ts, code: "const n: number = await Promise.resolve(5); n * 2" });
    assert.equal(late.results[0]?.json, 10);
  });

  test("concurrent runs in one context run one after the other; deleting a busy context ends its run", { timeout: 20_000 }, async () => {
    const ctx = await createContext(agent.base, { language: "js", cwd: "/tmp" });
    const slow = runCode(agent.base, { context_id: ctx, code: "await new Promise((r) => setTimeout(r, 300)); globalThis.order = ['slow']; 'slow'" });
    const fast = runCode(agent.base, { context_id: ctx, code: "order.push('fast'); order" });
    const [a, b] = await Promise.all([slow, fast]);
    assert.equal(a.results[0]?.json, "slow");
    assert.deepEqual(b.results[0]?.json, ["slow", "fast"], "the second run waited for the first");
    let del: Promise<unknown> | undefined;
    const busy = await runCode(
      agent.base,
      { context_id: ctx, code: "console.log('started'); await new Promise(() => {})" },
      { onEvent: (e) => e.type === "stdout" && (del = call(agent.base, "DELETE", `/api/contexts/${ctx}`)) },
    );
    await del;
    assert.equal(busy.execError?.ename, "ContextDeleted");
    assert.equal(busy.events.at(-1)?.type, "execution_complete");
  });

  test("a client that does not read holds the executor back (flow control), then gets every byte", { timeout: 30_000 }, async () => {
    const ctx = await createContext(agent.base, { language: "js", cwd: "/tmp" });
    const progress = `/tmp/atoll-interp-flow-${process.pid}`;
    rmSync(progress, { force: true });
    const code = `const fs = require('fs'); const big = 'x'.repeat(1 << 20);
for (let i = 1; i <= 64; i++) { process.stdout.write(big); fs.writeFileSync(${JSON.stringify(progress)}, String(i)); }
'done'`;
    const res = await fetch(agent.base + "/api/execute/code", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ context_id: ctx, code }) });
    const reader = res.body!.getReader();
    const first = await reader.read(); // the run has started writing
    let stalledAt = 0;
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const now = existsSync(progress) ? Number(readFileSync(progress, "utf8")) : 0;
      if (now === stalledAt && i > 10) break; // no progress while nobody reads
      stalledAt = now;
    }
    assert.ok(stalledAt < 32, `the executor kept writing (${stalledAt} MiB) while the client read nothing`);
    let bytes = first.value?.length ?? 0;
    let tail = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.length;
      tail = (tail + new TextDecoder().decode(value)).slice(-400);
    }
    assert.ok(bytes > 64 * (1 << 20), `got ${bytes} bytes`);
    assert.match(tail, /"execution_complete"/);
    assert.equal(readFileSync(progress, "utf8"), "64");
    rmSync(progress, { force: true });
  });

  test("runs without a context use one default context per language", async () => {
    await runCode(agent.base, { language: "js", code: "globalThis.viaDefault = 7" });
    const r = await runCode(agent.base, { language: "javascript", code: "viaDefault" });
    assert.equal(r.results[0]?.json, 7);
  });
});
