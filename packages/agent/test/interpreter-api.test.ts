// Code interpreter routes: validation and error codes, context lifecycle, health, and a file
// handed from a Python context to a JavaScript context.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { HAVE_ROOTFS, SHARED_IN_ROOTFS, SHARED_ON_HOST, call, createContext, runCode, startAgent, type Agent } from "./interpreter-helpers.js";

describe("interpreter: routes", () => {
  let agent: Agent;
  before(async () => {
    agent = await startAgent();
  });
  after(() => agent?.close());

  test("an unsupported language is INVALID_LANGUAGE (400) on create and on run", async () => {
    const c = await call(agent.base, "POST", "/api/contexts", { language: "ruby" });
    assert.equal(c.status, 400);
    assert.equal(c.body.code, "INVALID_LANGUAGE");
    assert.match(c.body.message, /^Cannot create context: unsupported language "ruby"/);
    const r = await runCode(agent.base, { language: "cobol", code: "1" });
    assert.equal(r.status, 400);
    assert.equal(r.error.code, "INVALID_LANGUAGE");
  });

  test("an unknown or deleted context is CONTEXT_NOT_FOUND (404)", async () => {
    const r = await runCode(agent.base, { context_id: "nope", code: "1" });
    assert.equal(r.status, 404);
    assert.equal(r.error.code, "CONTEXT_NOT_FOUND");
    const id = await createContext(agent.base, { language: "javascript", cwd: "/tmp" });
    const list = await call(agent.base, "GET", "/api/contexts");
    assert.ok(list.body.contexts.some((c: any) => c.id === id && c.language === "javascript" && c.cwd === "/tmp"));
    const del = await call(agent.base, "DELETE", `/api/contexts/${id}`);
    assert.deepEqual([del.status, del.body.success, del.body.contextId], [200, true, id]);
    const after = await runCode(agent.base, { context_id: id, code: "1" });
    assert.equal(after.error?.code, "CONTEXT_NOT_FOUND");
    assert.equal((await call(agent.base, "DELETE", `/api/contexts/${id}`)).body.code, "CONTEXT_NOT_FOUND");
    assert.ok(!(await call(agent.base, "GET", "/api/contexts")).body.contexts.some((c: any) => c.id === id));
  });

  test("bad bodies are clear 4xx errors", async () => {
    assert.equal((await runCode(agent.base, { language: "js" })).error.code, "VALIDATION_FAILED");
    assert.equal((await runCode(agent.base, { language: "js", code: "1", timeout_ms: -5 })).error.code, "VALIDATION_FAILED");
    assert.equal((await call(agent.base, "POST", "/api/contexts", { language: "js", cwd: "relative" })).body.code, "INVALID_PATH");
    assert.equal((await call(agent.base, "POST", "/api/contexts", { language: "js", env_vars: { "A=B": "x" } })).body.code, "VALIDATION_FAILED");
    const missing = await call(agent.base, "POST", "/api/contexts", { language: "js", cwd: "/definitely/not/here" });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "FILE_NOT_FOUND");
  });

  test("context env_vars and cwd reach the code; health answers", async () => {
    const id = await createContext(agent.base, { language: "js", cwd: "/tmp", env_vars: { ATOLL_CTX: "yes" } });
    const r = await runCode(agent.base, { context_id: id, code: "[process.env.ATOLL_CTX, process.cwd()]", timeout_ms: 1e12 });
    assert.deepEqual(r.results[0]?.json, ["yes", "/tmp"], "a timeout beyond setTimeout's range does not fire at once");
    const h = await call(agent.base, "GET", "/api/interpreter/health");
    assert.equal(h.status, 200);
    assert.equal(h.body.status, "healthy");
    assert.ok(h.body.contexts >= 1);
  });

  test("an executor that exits is reported and replaced; deleting a context ends its children", async () => {
    const id = await createContext(agent.base, { language: "javascript", cwd: "/tmp" });
    await runCode(agent.base, { context_id: id, code: "var before = 1" });
    const dead = await runCode(agent.base, { context_id: id, code: "process.exit(3)" });
    assert.equal(dead.execError?.ename, "ExecutorExited");
    assert.match(dead.execError?.evalue, /exited \(code 3\).*fresh state/);
    const fresh = await runCode(agent.base, { context_id: id, code: "typeof before" });
    assert.equal(fresh.results[0]?.json, "undefined", "a replaced executor starts with fresh state");
    const child = await runCode(agent.base, { context_id: id, code: "require('child_process').spawn('sleep', ['300'], { stdio: 'ignore' }).pid" });
    const pid = child.results[0]?.json as number;
    assert.ok(pid > 0);
    process.kill(pid, 0); // alive now
    await call(agent.base, "DELETE", `/api/contexts/${id}`);
    let gone = false;
    for (let i = 0; i < 200 && !gone; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 10));
      } catch {
        gone = true;
      }
    }
    assert.ok(gone, "the context's child process was killed with it");
  });

  test("pre-warm: spares start one after the other and the first context takes one", async () => {
    const { InterpreterManager } = await import("../src/interpreter/manager.js");
    const m = new InterpreterManager();
    try {
      m.prewarm(HAVE_ROOTFS ? ["python", "node"] : ["node"]);
      assert.equal(m.health().prewarm.javascript?.state, HAVE_ROOTFS ? "queued" : "starting");
      await m.whenPrewarmed;
      for (const s of Object.values(m.health().prewarm)) assert.ok(s.state === "ready" && s.readyMs! > 0, JSON.stringify(m.health()));
      let t0 = performance.now();
      await m.create({ language: "javascript", cwd: "/tmp" });
      const warmMs = performance.now() - t0;
      assert.equal(m.health().prewarm.javascript?.state, "used");
      t0 = performance.now();
      await m.create({ language: "javascript", cwd: "/tmp" });
      const coldMs = performance.now() - t0;
      assert.ok(warmMs < coldMs, `warm ${warmMs} ms vs cold ${coldMs} ms`);
    } finally {
      m.shutdown();
    }
  });

  test("python writes a file that javascript then reads", { skip: HAVE_ROOTFS ? false : "base image rootfs not built" }, async () => {
    const py = await createContext(agent.base, { language: "python", cwd: SHARED_IN_ROOTFS });
    const w = await runCode(agent.base, { context_id: py, code: "import json\nopen('handoff.json', 'w').write(json.dumps({'from': 'python', 'n': 3}))" });
    assert.equal(w.execError, undefined, JSON.stringify(w.execError));
    const js = await createContext(agent.base, { language: "javascript", cwd: SHARED_ON_HOST });
    const r = await runCode(agent.base, { context_id: js, code: "const fs = require('fs'); JSON.parse(fs.readFileSync('handoff.json', 'utf8'))" });
    assert.deepEqual(r.results[0]?.json, { from: "python", n: 3 });
    assert.equal(JSON.parse(readFileSync(path.join(SHARED_ON_HOST, "handoff.json"), "utf8")).n, 3);
  });
});
