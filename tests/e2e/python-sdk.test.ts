// The Python SDK (sdks/python) against the real stack: builds the wheel with hatchling, installs
// it into a fresh venv with pip and no package index, then runs its pytest suite (Debian's
// pytest) with ATOLL_URL/ATOLL_API_KEY of a control plane started here. Debian's python3 is used
// because the venv sees the system's python3-httpx, python3-pytest and python3-mypy (--system-site-packages).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ErrorCode } from "@atoll/protocol";
import { errorFromResponse } from "@atoll/sdk";
import { REPO_ROOT, startAtoll, type Atoll } from "./harness.js";

const PYTHON = process.env.ATOLL_TEST_PYTHON ?? "/usr/bin/python3";
const SDK_DIR = path.join(REPO_ROOT, "sdks/python");

let atoll: Atoll;
let tmp: string;
let venvPython: string;

function run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; input?: string } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d) => (out += d));
    c.stderr.on("data", (d) => (out += d));
    const timer = setTimeout(() => c.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    c.on("error", reject);
    c.on("close", (code) => (clearTimeout(timer), resolve({ code, out })));
    c.stdin.end(opts.input ?? "");
  });
}

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "atoll-py-"));
  const dist = path.join(tmp, "dist");
  // --skip-dependency-check: Debian's hatchling lacks the metadata `build` checks for; no download happens either way.
  const b = await run(PYTHON, ["-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check", "-o", dist, SDK_DIR]);
  assert.equal(b.code, 0, b.out);
  const wheel = readdirSync(dist).find((f) => f.endsWith(".whl"));
  assert.ok(wheel, `no wheel in ${dist}`);
  const venv = path.join(tmp, "venv");
  const v = await run(PYTHON, ["-m", "venv", "--system-site-packages", venv]);
  assert.equal(v.code, 0, v.out);
  venvPython = path.join(venv, "bin/python");
  const pip = await run(venvPython, ["-m", "pip", "install", "--no-index", "--disable-pip-version-check", path.join(dist, wheel)]);
  assert.equal(pip.code, 0, pip.out);
  atoll = await startAtoll({ poolSize: 0 });
});

after(async () => {
  await atoll?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test("the wheel's pytest suite passes against the real control plane (sync and async)", { timeout: 600_000 }, async () => {
  const r = await run(venvPython, ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", path.join(SDK_DIR, "tests")], {
    cwd: tmp,
    env: { ATOLL_URL: atoll.url, ATOLL_API_KEY: atoll.apiKey, ATOLL_EXPECT_PREFIX: path.join(tmp, "venv") },
    timeoutMs: 580_000,
  });
  console.log(r.out.split("\n").filter((l) => /passed|failed|error/i.test(l)).join("\n"));
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /\b4 passed\b/);
});

test("the installed package is typed: mypy --strict passes on it and on the tests that use it (py.typed)", { timeout: 300_000 }, async () => {
  // The tests import `atoll` from the venv: mypy only reads an installed package's types when it ships py.typed.
  for (const target of [["-p", "atoll"], [path.join(SDK_DIR, "tests")]]) {
    const r = await run(venvPython, ["-m", "mypy", "--strict", "--cache-dir", path.join(tmp, "mypy-cache"), ...target], { cwd: tmp, timeoutMs: 140_000 });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Success: no issues found/m);
  }
});

test("every registry code maps to the same exception class as in the TypeScript SDK", async () => {
  const codes = Object.values(ErrorCode);
  const py = await run(venvPython, ["-c", "import json,sys,atoll; print(json.dumps({c: atoll.BY_CODE.get(c, atoll.SandboxError).__name__ for c in json.load(sys.stdin)}))"], { input: JSON.stringify(codes) });
  assert.equal(py.code, 0, py.out);
  const pyNames = JSON.parse(py.out) as Record<string, string>;
  for (const code of codes) {
    const ts = errorFromResponse({ code, message: "m", context: {}, httpStatus: 500 }).name;
    assert.equal(pyNames[code], ts === "SandboxError" ? "SandboxError" : ts, `code ${code}`);
  }
});
