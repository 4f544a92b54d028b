// Atoll as its users get it: the packed tarballs (scripts/pack.mjs, from what scripts/build.mjs
// built) installed into a fresh project outside the repository — no workspace links, no tsx —
// then, against a real server and real sandboxes: the same app under plain node, Bun and Deno
// (both installed from the npm registry into that project), the types under tsc --strict, a
// Worker bundled from the installed package and run in workerd (Miniflare, from the npm registry),
// require() of the ESM-only SDK, and the installed `atoll` bin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { VERSION } from "@atoll/protocol";
import { createClient, getSandbox } from "@atoll/sdk";
import { REPO_ROOT, startAtoll, type Atoll } from "./harness.js";

const run = promisify(execFile);
const FIXTURES = path.join(REPO_ROOT, "tests/e2e/fixtures/install");
const dir = mkdtempSync(path.join(os.tmpdir(), "atoll-install-"));
const app = path.join(dir, "app");
const version = (pkg: string) => (JSON.parse(readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
let atoll: Atoll;
/** The few Miniflare members used here (loaded from the fresh project, not a repository dependency). */
type MiniflareCtor = new (o: object) => {
  dispatchFetch(url: string, init?: object): Promise<Response & { webSocket?: { accept(): void; send(d: string): void; close(): void; addEventListener(t: "message", f: (e: { data: unknown }) => void): void } }>;
  dispose(): Promise<void>;
};

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
  // The SDK with what it declares; Bun, Deno and workerd (registry packages with their binaries inside); TypeScript.
  await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", tgz("protocol"), tgz("sdk"), `typescript@${version("typescript")}`, `@types/node@${version("@types/node")}`, "bun@1", "deno@2", "miniflare@4"], {}, 600_000);
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

test("under deno (from the npm registry): the same app", async () => {
  const r = await sh(path.join(app, "node_modules/.bin/deno"), ["run", "--allow-all", "app.mjs", atoll.url, atoll.apiKey, "install-deno"]);
  const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
  console.log(`# ${got.runtime}`);
  assert.match(got.runtime, /^deno \d/);
  check(got, "install-deno");
});

test("in a Cloudflare Worker (workerd via Miniflare): exec, a preview URL through proxyToSandbox, a WebSocket through wsConnect", async () => {
  const out = await build({ entryPoints: [path.join(app, "worker.ts")], absWorkingDir: app, bundle: true, platform: "browser", conditions: ["workerd", "worker", "browser"], format: "esm", write: false, logLevel: "silent" });
  const code = out.outputFiles[0]!.text;
  assert.doesNotMatch(code, /from ["']node:/, "no Node built-ins in the Worker bundle");
  const mod = (await import(pathToFileURL(createRequire(path.join(app, "package.json")).resolve("miniflare")).href)) as { Miniflare?: MiniflareCtor; default?: { Miniflare: MiniflareCtor } };
  const Miniflare = (mod.Miniflare ?? mod.default!.Miniflare)!;
  // modules given as contents: Miniflare's own import scan refuses the SDK's Node-only `import(name)` of ws (never run in a Worker).
  const mf = new Miniflare({ modules: [{ type: "ESModule", path: "worker.mjs", contents: code }], compatibilityDate: "2024-09-23", bindings: { ATOLL_URL: atoll.url, ATOLL_API_KEY: atoll.apiKey } });
  try {
    const r = await mf.dispatchFetch("http://localhost/");
    assert.equal(await r.text(), "hello from the sandbox\n");
    // a server in the sandbox, exposed: its preview URL answers through the Worker, and so does a WebSocket
    const sb = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "install-worker");
    await sb.writeFile("/workspace/echo.ts", `Bun.serve({ port: 8080, fetch(req, server) { return server.upgrade(req) ? undefined : new Response("http ok " + new URL(req.url).pathname); }, websocket: { message(ws, m) { ws.send("echo:" + m); } } });`);
    const server = await sb.startProcess("bun run /workspace/echo.ts");
    await server.waitForPort(8080, { timeout: 20_000 });
    const { url } = await sb.exposePort(8080, { hostname: "localhost" });
    const preview = await mf.dispatchFetch(new URL("/hello?x=1", url).href);
    assert.equal(await preview.text(), "http ok /hello");
    const up = await mf.dispatchFetch("http://localhost/ws", { headers: { upgrade: "websocket" } });
    assert.equal(up.status, 101);
    const ws = up.webSocket!;
    ws.accept();
    const echoed = await new Promise<unknown>((resolve) => {
      ws.addEventListener("message", (e: { data: unknown }) => resolve(e.data));
      ws.send("ping");
    });
    assert.equal(echoed, "echo:ping");
    ws.close();
  } finally {
    await mf.dispose();
  }
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
