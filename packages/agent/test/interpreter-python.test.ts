// Python code contexts through the agent's HTTP API, with real IPython executors running in the
// base image rootfs (chroot).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { HAVE_ROOTFS, createContext, pngSize, runCode, startAgent, type Agent } from "./interpreter-helpers.js";

describe("interpreter: python", { skip: HAVE_ROOTFS ? false : "base image rootfs not built" }, () => {
  let agent: Agent;
  let ctx: string;
  before(async () => {
    agent = await startAgent();
    ctx = await createContext(agent.base, { language: "python", cwd: "/tmp" });
  });
  after(() => agent?.close());

  test("state persists within a context and not across contexts", async () => {
    const a = await runCode(agent.base, { context_id: ctx, code: "secret = 41" });
    assert.equal(a.execError, undefined);
    const b = await runCode(agent.base, { context_id: ctx, code: "secret + 1" });
    assert.equal(b.results[0]?.text, "42");
    const other = await createContext(agent.base, { language: "python3", cwd: "/tmp" });
    const c = await runCode(agent.base, { context_id: other, code: "secret" });
    assert.equal(c.execError?.ename, "NameError");
  });

  test("a DataFrame column sum is a text result; a DataFrame has HTML", async () => {
    const sum = await runCode(agent.base, {
      context_id: ctx,
      code: "import pandas as pd\ndf = pd.DataFrame({'region': ['n', 's', 'e'], 'sales': [10, 20, 30]})\ndf['sales'].sum()",
    });
    assert.equal(sum.execError, undefined, JSON.stringify(sum.execError));
    assert.equal(sum.results.length, 1);
    assert.equal(sum.results[0]!.text, "60");
    const table = await runCode(agent.base, { context_id: ctx, code: "df" });
    assert.match(table.results[0]!.html, /<table[^>]*class="dataframe"/);
    assert.match(table.results[0]!.html, /<td>30<\/td>/);
    assert.match(table.results[0]!.text, /sales/);
  });

  test("a matplotlib plot (plt.show and a figure left open) returns a valid PNG and an SVG", async () => {
    const shown = await runCode(agent.base, {
      context_id: ctx,
      code: "import matplotlib.pyplot as plt\nplt.figure(figsize=(4, 3), dpi=100)\nplt.plot([1, 2, 3], [4, 1, 9])\nplt.show()",
    });
    assert.equal(shown.execError, undefined, JSON.stringify(shown.execError));
    assert.equal(shown.results.length, 1);
    const r = shown.results[0]!;
    assert.equal(r.text, "<Figure size 400x300 with 1 Axes>");
    const { width, height } = pngSize(r.png);
    // Jupyter's inline backend crops to the drawn area (bbox_inches="tight"): at most the figure size.
    assert.ok(width > 300 && width <= 400 + 20, `width ${width}`);
    assert.ok(height > 200 && height <= 300 + 20, `height ${height}`);
    assert.match(r.svg, /<svg[\s\S]*<\/svg>/);

    const open = await runCode(agent.base, { context_id: ctx, code: "fig, ax = plt.subplots(figsize=(2, 2), dpi=50)\nax.bar([1, 2], [3, 4]);" });
    assert.equal(open.results.length, 1, "a figure left open is displayed once at the end");
    const s = pngSize(open.results[0]!.png);
    assert.ok(s.width > 50 && s.width <= 120 && s.height > 50 && s.height <= 120, JSON.stringify(s));

    // Without the crop the PNG is exactly figsize × dpi.
    const exact = await runCode(agent.base, {
      context_id: ctx,
      code: "%config InlineBackend.print_figure_kwargs = {'bbox_inches': None}\nplt.figure(figsize=(4, 3), dpi=100)\nplt.plot([1, 2])\nplt.show()\n%config InlineBackend.print_figure_kwargs = {'bbox_inches': 'tight'}",
    });
    assert.equal(exact.execError, undefined, JSON.stringify(exact.execError));
    assert.deepEqual(pngSize(exact.results[0]!.png), { width: 400, height: 300 });
  });

  test("a matplotlib figure also carries its data as `chart` (line, bar with categories, pie)", async () => {
    const line = await runCode(agent.base, {
      context_id: ctx,
      code: "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [4, 5, 6], label='growth')\nplt.title('Trend')\nplt.xlabel('day')\nplt.show()",
    });
    assert.deepEqual(line.results[0]?.chart, {
      type: "line",
      title: "Trend",
      library: "matplotlib",
      data: { x_label: "day", y_label: "", elements: [{ label: "growth", points: [[1, 4], [2, 5], [3, 6]] }] },
    });
    const bar = await runCode(agent.base, { context_id: ctx, code: "plt.bar(['north', 'south'], [3, 4])\nplt.show()" });
    assert.equal(bar.results[0]?.chart?.type, "bar");
    assert.deepEqual(bar.results[0]?.chart?.data.elements, [
      { label: "north", group: "", value: 3 },
      { label: "south", group: "", value: 4 },
    ]);
    const pie = await runCode(agent.base, { context_id: ctx, code: "plt.pie([1, 3], labels=['a', 'b'])\nplt.show()" });
    assert.deepEqual(pie.results[0]?.chart?.data.elements, [{ label: "a", angle: 90 }, { label: "b", angle: 270 }]);
  });

  test("display() results arrive in order; _repr_*_ methods give markdown, json and latex", async () => {
    const r = await runCode(agent.base, {
      context_id: ctx,
      code: [
        "class Rich:",
        "    def _repr_markdown_(self): return '**bold**'",
        "    def _repr_json_(self): return {'a': 1}",
        "    def _repr_latex_(self): return r'$x^2$'",
        "display('first')",
        "print('between')",
        "display('second')",
        "Rich()",
      ].join("\n"),
    });
    assert.deepEqual(
      r.events.filter((e) => e.type !== "execution_complete").map((e) => e.text),
      ["'first'", "between\n", "'second'", r.results[2]?.text],
    );
    assert.equal(r.results[2]!.is_main_result, true);
    assert.equal(r.results[2]!.markdown, "**bold**");
    assert.deepEqual(r.results[2]!.json, { a: 1 });
    assert.equal(r.results[2]!.latex, "$x^2$");
  });

  test("an exception is an error event with name, message and traceback", async () => {
    const r = await runCode(agent.base, { context_id: ctx, code: "undefined_thing + 1" });
    assert.equal(r.execError?.ename, "NameError");
    assert.match(r.execError?.evalue, /undefined_thing/);
    assert.ok(r.execError!.traceback.some((l: string) => l.includes("undefined_thing")));
    assert.equal(r.events.at(-1)?.type, "execution_complete");
  });

  test("a timeout interrupts `while True: pass` and the context keeps its state", { timeout: 20_000 }, async () => {
    await runCode(agent.base, { context_id: ctx, code: "kept = 'yes'" });
    const r = await runCode(agent.base, { context_id: ctx, code: "while True: pass", timeout_ms: 500 });
    assert.equal(r.execError?.ename, "TimeoutError");
    assert.equal(r.events.at(-1)?.timed_out, true);
    assert.ok(r.events.at(-1)!.at < 2400, `interrupted after ${r.events.at(-1)!.at} ms`);
    const next = await runCode(agent.base, { context_id: ctx, code: "kept" });
    assert.equal(next.results[0]?.text, "'yes'");
  });

  test("a client disconnect interrupts the run and the context stays usable", { timeout: 20_000 }, async () => {
    const ac = new AbortController();
    const started = runCode(
      agent.base,
      { context_id: ctx, code: "import time\nprint('go')\nwhile True: time.sleep(0.01)" },
      { signal: ac.signal, onEvent: (e) => e.type === "stdout" && ac.abort() },
    );
    await assert.rejects(started);
    const t0 = performance.now();
    const next = await runCode(agent.base, { context_id: ctx, code: "'alive'" });
    assert.equal(next.results[0]?.text, "'alive'");
    assert.ok(performance.now() - t0 < 2500, "the interrupted run released the context");
  });

  test("stdout is streamed as it is written", async () => {
    const r = await runCode(agent.base, { context_id: ctx, code: "import time\nfor i in range(3):\n    print(f'line {i}')\n    time.sleep(0.3)" });
    const lines = r.events.filter((e) => e.type === "stdout" && /line \d/.test(e.text));
    assert.equal(lines.length, 3, JSON.stringify(r.events));
    const done = r.events.at(-1)!;
    // Each line arrives about one sleep before the next, not all at the end.
    assert.ok(done.at - lines[0]!.at > 700, `first line at ${lines[0]!.at}, done at ${done.at}`);
    assert.ok(lines[1]!.at - lines[0]!.at > 200 && lines[2]!.at - lines[1]!.at > 200, JSON.stringify(lines.map((l) => l.at)));
  });

  test("per-run env_vars apply to that run only; top-level await works", async () => {
    const r = await runCode(agent.base, { context_id: ctx, code: "import os\nos.environ.get('ATOLL_T')", env_vars: { ATOLL_T: "v1" } });
    assert.equal(r.results[0]?.text, "'v1'");
    const r2 = await runCode(agent.base, { context_id: ctx, code: "import asyncio\nawait asyncio.sleep(0.01)\nos.environ.get('ATOLL_T')" });
    assert.equal(r2.execError, undefined);
    assert.equal(r2.results.length, 0, "None is not a result");
  });
});
