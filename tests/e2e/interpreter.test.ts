// Code interpreter through the control plane into real sandboxes (oci driver, crun, netns, the
// agent with its pre-warmed Python and Node executors): /v1/sandboxes/:id/api/* forwards to the agent.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SSEDecoder } from "@atoll/protocol";
import { createSandbox, startAtoll, type Atoll } from "./harness.js";

let atoll: Atoll;
const ID = "interp-e2e";
const api = (p: string) => `/v1/sandboxes/${ID}/api${p}`;

interface Ev {
  type: string;
  at: number;
  [k: string]: any;
}

async function run(body: Record<string, unknown>): Promise<{ status: number; events: Ev[]; error?: any }> {
  const t0 = performance.now();
  const res = await atoll.api(api("/execute/code"), { method: "POST", json: body });
  if (!res.ok) return { status: res.status, events: [], error: await res.json() };
  const dec = new SSEDecoder();
  const td = new TextDecoder();
  const events: Ev[] = [];
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (const e of dec.push(td.decode(chunk, { stream: true }))) events.push({ ...(e as object), at: performance.now() - t0 } as Ev);
  }
  return { status: res.status, events };
}
const results = (r: { events: Ev[] }) => r.events.filter((e) => e.type === "result");
const errorOf = (r: { events: Ev[] }) => r.events.find((e) => e.type === "error");

async function context(language: string): Promise<string> {
  const r = await atoll.json("POST", api("/contexts"), { language });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.cwd, "/workspace");
  return r.body.contextId;
}

describe("code interpreter in a real sandbox", () => {
  before(async () => {
    atoll = await startAtoll({ poolSize: 0 });
    await createSandbox(atoll, ID);
  });
  after(async () => {
    await atoll?.stop();
  });

  test("python: state, pandas text and HTML, a matplotlib PNG, NameError", async () => {
    const py = await context("python");
    const sum = await run({ context_id: py, code: "import pandas as pd\ndf = pd.DataFrame({'sales': [5, 6, 7]})\ndf['sales'].sum()" });
    assert.equal(errorOf(sum), undefined, JSON.stringify(sum.events));
    assert.equal(results(sum)[0]?.text, "18");
    assert.match(results(await run({ context_id: py, code: "df" }))[0]?.html, /<table/);
    const plot = await run({ context_id: py, code: "import matplotlib.pyplot as plt\nplt.figure(figsize=(3, 2), dpi=100)\nplt.plot([1, 3, 2])\nplt.show()" });
    const png = Buffer.from(results(plot)[0]?.png ?? "", "base64");
    assert.equal(png.subarray(1, 4).toString(), "PNG");
    assert.equal(png.toString("latin1", 12, 16), "IHDR");
    const w = png.readUInt32BE(16);
    assert.ok(w > 200 && w <= 320, `png width ${w}`);
    const err = errorOf(await run({ context_id: py, code: "missing_name" }));
    assert.equal(err?.ename, "NameError");
    assert.ok(err!.traceback.length > 0);
  });

  test("a timeout interrupts python and javascript busy loops; the contexts keep working", { timeout: 30_000 }, async () => {
    for (const [lang, loop, after] of [
      ["python", "while True: pass", "21 * 2"],
      ["javascript", "while (true) {}", "21 * 2"],
    ] as const) {
      const ctx = await context(lang);
      const r = await run({ context_id: ctx, code: loop, timeout_ms: 400 });
      assert.equal(errorOf(r)?.ename, "TimeoutError", lang);
      assert.equal(results(await run({ context_id: ctx, code: after }))[0]?.text, "42", lang);
    }
  });

  test("javascript and typescript persist state; python writes a file javascript reads", async () => {
    const js = await context("js");
    await run({ context_id: js, code: "let n = 40; const add = (a) => a + 2;" });
    const r = await run({ context_id: js, code: "await Promise.resolve(add(n))" });
    assert.equal(results(r)[0]?.json, 42);
    const ts = await context("typescript");
    await run({ context_id: ts, code: "const t: string = 'typed';" });
    assert.equal(results(await run({ context_id: ts, code: "t.toUpperCase()" }))[0]?.json, "TYPED");
    const py = await context("python3");
    await run({ context_id: py, code: "open('/workspace/from-py.txt', 'w').write('hello from python')" });
    const read = await run({ context_id: js, code: "require('fs').readFileSync('/workspace/from-py.txt', 'utf8')" });
    assert.equal(results(read)[0]?.json, "hello from python");
  });

  test("stdout streams through the control plane as it is written", async () => {
    const r = await run({ language: "python", code: "import time\nfor i in range(3):\n    print(i)\n    time.sleep(0.3)" });
    const out = r.events.filter((e) => e.type === "stdout");
    assert.equal(out.map((e) => e.text).join(""), "0\n1\n2\n");
    assert.ok(out.at(-1)!.at - out[0]!.at > 450, JSON.stringify(out.map((e) => e.at)));
  });

  test("errors: invalid language, unknown context; health reports the pre-warm", async () => {
    const bad = await run({ language: "ruby", code: "1" });
    assert.equal(bad.status, 400);
    assert.equal(bad.error.code, "INVALID_LANGUAGE");
    const missing = await run({ context_id: "no-such-context", code: "1" });
    assert.equal(missing.status, 404);
    assert.equal(missing.error.code, "CONTEXT_NOT_FOUND");
    const h = await atoll.json("GET", api("/interpreter/health"));
    assert.equal(h.status, 200);
    assert.equal(h.body.status, "healthy", JSON.stringify(h.body));
    assert.ok(["ready", "used"].includes(h.body.prewarm.python?.state), JSON.stringify(h.body));
    assert.ok(["ready", "used"].includes(h.body.prewarm.javascript?.state), JSON.stringify(h.body));
  });
});
