// Atoll as its users get it: the packed tarballs (scripts/pack.mjs, from what scripts/build.mjs
// built) installed into a fresh project outside the repository — no workspace links, no tsx —
// then, against a real server and real sandboxes: the same app under plain node and under Bun
// (installed from the npm registry into that project), the types under tsc --strict, a Worker
// bundle without Node built-ins, require() of the ESM-only SDK, and the installed `atoll` bin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { VERSION } from "@atoll/protocol";
import { REPO_ROOT, startAtoll, type Atoll } from "./harness.js";

const run = promisify(execFile);
const FIXTURES = path.join(REPO_ROOT, "tests/e2e/fixtures/install");
const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-install-"));
const app = path.join(dir, "app");
const version = (pkg: string) => (JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
let atoll: Atoll;

/** Runs a command in the fresh project with a clean environment (no NODE_OPTIONS / tsx from the test runner). */
async function sh(cmd: string, args: string[], env: Record<string, string> = {}, timeout = 120_000) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NODE_") && !k.startsWith("npm_") && k !== "TSX_TSCONFIG_PATH")) as Record<string, string>;
  return run(cmd, args, { cwd: app, env: { ...clean, ...env }, timeout, maxBuffer: 16 << 20 });
}

before(async () => {
  await run(process.execPath, [path.join(REPO_ROOT, "scripts/pack.mjs"), "--no-build", "--out", path.join(dir, "tarballs")], { cwd: REPO_ROOT });
  const tgz = (n: string) => path.join(dir, "tarballs", `atoll-${n}-${VERSION}.tgz`);
  mkdirSync(app);
  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }));
  for (const f of ["app.mjs", "types.ts", "worker.ts"]) copyFileSync(path.join(FIXTURES, f), path.join(app, f));
  // The SDK with what it declares, Bun (a registry package with its binary inside), TypeScript.
  await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tgz("protocol"), tgz("sdk"), `typescript@${version("typescript")}`, `@types/node@${version("@types/node")}`, "bun@1"], {}, 600_000);
  // The CLI: better-sqlite3 (only `atoll serve` loads it) would compile from source here; the
  // client commands are what this test runs, so its install script is skipped.
  await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts", tgz("cli")], {}, 600_000);
  atoll = await startAtoll({ poolSize: 0 });
});
after(async () => {
  await atoll?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the installed project holds built JavaScript only: no TypeScript sources run, no workspace links", () => {
  for (const p of ["protocol", "sdk"]) {
    const pkg = JSON.parse(readFileSync(path.join(app, "node_modules/@atoll", p, "package.json"), "utf8")) as { version: string; exports: Record<string, { default: string }> };
    assert.equal(pkg.version, VERSION);
    for (const e of Object.values(pkg.exports)) assert.match(e.default, /^\.\/dist\/.*\.js$/);
  }
  const lock = readFileSync(path.join(app, "package-lock.json"), "utf8");
  assert.doesNotMatch(lock, /"link": true/);
  assert.doesNotMatch(lock, /node_modules\/tsx"/);
});

function check(got: { runtime: string; exec: unknown; file: string; url: string; echoed: string; notFound: unknown }, id: string) {
  assert.deepEqual(got.exec, { exitCode: 0, stdout: "hi from Linux\n" });
  assert.equal(got.file, "héllo wörld");
  assert.match(got.url, new RegExp(`^http://8080-${id}-[a-z0-9_-]{16}\\.localhost:${atoll.port}/$`));
  assert.equal(got.echoed, "echo:ping");
  assert.deepEqual(got.notFound, { isSandboxError: true, code: "FILE_NOT_FOUND" });
}

test("under plain node: create, exec, write + read a file, expose a port, WebSocket to it", async () => {
  const r = await sh("node", ["app.mjs", atoll.url, atoll.apiKey, "install-node"]);
  const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
  console.log(`# ${got.runtime}`);
  assert.match(got.runtime, /^node /);
  check(got, "install-node");
});

test("under bun (from the npm registry): the same app", async () => {
  const r = await sh(path.join(app, "node_modules/.bin/bun"), ["app.mjs", atoll.url, atoll.apiKey, "install-bun"]);
  const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
  console.log(`# ${got.runtime}`);
  assert.match(got.runtime, /^bun \d/);
  check(got, "install-bun");
});

test("the types compile with tsc --strict against the installed packages", async () => {
  writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "DOM"], types: ["node"], skipLibCheck: false }, files: ["types.ts"] }));
  const r = await sh(path.join(app, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"]).catch((e: { stdout: string }) => assert.fail(`tsc failed:\n${e.stdout}`));
  assert.equal(r.stdout, "");
});

test("a Cloudflare Worker bundle of the installed SDK needs no Node built-ins", async () => {
  const out = await build({ entryPoints: [path.join(app, "worker.ts")], absWorkingDir: app, bundle: true, platform: "browser", conditions: ["workerd", "worker", "browser"], format: "esm", write: false, logLevel: "silent" });
  const code = out.outputFiles[0]!.text;
  assert.doesNotMatch(code, /from ["']node:/);
  assert.match(code, /proxyToSandbox/);
});

test("require('@atoll/sdk'): ESM only, loaded through Node's require(esm) where it has it (20.19+, 22.12+)", async () => {
  const r = await sh("node", ["--input-type=commonjs", "-e", "try { console.log(typeof require('@atoll/sdk').getSandbox) } catch (e) { console.log(e.code) }"]);
  const hasRequireEsm = (process.features as { require_module?: boolean }).require_module === true;
  assert.equal(r.stdout.trim(), hasRequireEsm ? "function" : "ERR_REQUIRE_ESM");
});

test("the installed `atoll` bin: --version, --help, and client commands against the server", async () => {
  const bin = path.join(app, "node_modules/.bin/atoll");
  assert.equal((await sh(bin, ["--version"])).stdout, `atoll ${VERSION}\n`);
  assert.match((await sh(bin, ["--help"])).stdout, /atoll exec <id>/);
  const env = { ATOLL_URL: atoll.url, ATOLL_API_KEY: atoll.apiKey };
  const ls = JSON.parse((await sh(bin, ["ls", "--json"], env)).stdout) as { id: string }[];
  assert.ok(ls.some((s) => s.id === "install-node"));
  assert.equal((await sh(bin, ["exec", "install-node", "--", "cat /workspace/hello.txt"], env)).stdout, "héllo wörld");
  const bad = await sh(bin, ["ls", "--bogus"], env).catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 2);
  assert.match((bad as { stderr: string }).stderr, /unknown option '--bogus'/);
});
