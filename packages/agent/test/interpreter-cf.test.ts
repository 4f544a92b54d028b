// Compatibility: the published @cloudflare/sandbox@0.4.18 CodeInterpreter + InterpreterClient,
// pointed at a real Atoll agent, create contexts, run Python and JavaScript with rich results and
// errors, list and delete contexts. @cloudflare/containers is mapped to a stub (Workers-only import).
import assert from "node:assert/strict";
import { loadCloudflareSandbox } from "./cf-loader.js";
import { after, before, describe, test } from "node:test";
import { HAVE_ROOTFS, startAgent, type Agent } from "./interpreter-helpers.js";


describe("interpreter: Cloudflare's published client", () => {
  let agent: Agent;
  let ci: any;
  let client: any;
  before(async () => {
    const cf: any = await loadCloudflareSandbox();
    agent = await startAgent();
    client = new cf.SandboxClient({ baseUrl: agent.base });
    ci = new cf.CodeInterpreter({ client });
  });
  after(() => agent?.close());

  test("javascript: createCodeContext, runCode with logs and a json result, errors", async () => {
    const ctx = await ci.createCodeContext({ language: "javascript", cwd: "/tmp" });
    assert.equal(ctx.language, "javascript");
    assert.equal(ctx.cwd, "/tmp");
    const seen: string[] = [];
    const ex = await ci.runCode("const v = 20; console.log('log line'); ({ v: v + 1 })", { context: ctx, onStdout: (o: any) => seen.push(o.text) });
    assert.deepEqual(ex.logs.stdout, ["log line\n"]);
    assert.deepEqual(seen, ["log line\n"]);
    assert.deepEqual(ex.results[0].json, { v: 21 });
    assert.ok(ex.results[0].formats().includes("json"));
    const bad = await ci.runCode("v.nope.deeper", { context: ctx });
    assert.equal(bad.error.name, "TypeError");
    assert.ok(bad.error.traceback.length > 0);
    const list = await ci.listCodeContexts();
    assert.ok(list.some((c: any) => c.id === ctx.id));
    await ci.deleteCodeContext(ctx.id);
    await assert.rejects(ci.runCode("1", { context: ctx }), (e: any) => e.code === "CONTEXT_NOT_FOUND" || /not exist|CONTEXT_NOT_FOUND/.test(e.message));
  });

  test("invalid language is rejected", async () => {
    await assert.rejects(client.interpreter.createCodeContext({ language: "ruby" }), (e: any) => /unsupported language/i.test(e.message));
  });

  test("python: text, html and png results through ResultImpl", { skip: HAVE_ROOTFS ? false : "base image rootfs not built" }, async () => {
    const ctx = await ci.createCodeContext({ language: "python", cwd: "/tmp" });
    const sum = await ci.runCode("import pandas as pd\ndf = pd.DataFrame({'sales': [1, 2]})\ndf['sales'].sum()", { context: ctx });
    assert.equal(sum.error, undefined);
    assert.equal(sum.results[0].text, "3");
    const table = await ci.runCode("df", { context: ctx });
    assert.deepEqual(table.results[0].formats(), ["text", "html"]);
    const plot = await ci.runCode("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()", { context: ctx });
    assert.ok(plot.results[0].formats().includes("png"));
    assert.equal(Buffer.from(plot.results[0].png, "base64").subarray(1, 4).toString(), "PNG");
    const err = await ci.runCode("nope_name", { context: ctx });
    assert.equal(err.error.name, "NameError");
    const json = ex2json(err);
    assert.equal(json.error.name, "NameError");
  });
});

function ex2json(ex: any): any {
  return JSON.parse(JSON.stringify(ex.toJSON()));
}
