// The SDK's main entry under Bun (not Node): bundle it for a neutral platform, run it with the
// sandbox image's Bun inside a real sandbox against a stand-in control plane served by Bun there.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { createClient, getSandbox, type Sandbox } from "@atoll/sdk";
import { startAtoll, type Atoll } from "./harness.js";

let atoll: Atoll;
let sb: Sandbox;
const fixture = (f: string) => readFileSync(fileURLToPath(new URL(`./fixtures/sdk-bun/${f}`, import.meta.url)), "utf8");

before(async () => {
  atoll = await startAtoll({ poolSize: 0 });
  sb = getSandbox(createClient({ url: atoll.url, apiKey: atoll.apiKey }), "sdk-bun");
});
after(async () => {
  await atoll?.stop();
});

test("the bundled SDK runs under Bun: streaming exec, binary reads, collectFile, typed errors", async () => {
  const entry = fileURLToPath(new URL("../../packages/sdk/src/index.ts", import.meta.url));
  const bundle = await build({ entryPoints: [entry], bundle: true, platform: "neutral", format: "esm", write: false, logLevel: "silent" });
  await sb.writeFile("/workspace/bun/sdk.mjs", bundle.outputFiles[0]!.text);
  await sb.writeFile("/workspace/bun/fake-control-plane.ts", fixture("fake-control-plane.ts"));
  await sb.writeFile("/workspace/bun/check.ts", fixture("check.ts"));
  const server = await sb.startProcess("bun run fake-control-plane.ts", { cwd: "/workspace/bun" });
  try {
    await server.waitForLog("fake control plane ready", 20_000);
    const r = await sb.exec("bun run check.ts", { cwd: "/workspace/bun", timeout: 30_000 });
    assert.equal(r.exitCode, 0, r.stderr);
    const got = JSON.parse(r.stdout.trim().split("\n").pop()!);
    console.log(`# ${got.runtime}`);
    assert.match(got.runtime, /^bun \d/);
    assert.deepEqual(got.exec, { exitCode: 3, stdout: "héllo wörld\n", stderr: "warn\n", chunks: [["stdout", "héllo "], ["stdout", "wörld\n"], ["stderr", "warn\n"]] });
    assert.deepEqual(got.file, { encoding: "base64", content: Buffer.from([0, 1, 2, 250, 251, 255]).toString("base64"), isBinary: true });
    assert.deepEqual(got.collected, [0, 1, 2, 250, 251, 255]);
    assert.deepEqual(got.notFound, { isClass: true, code: "FILE_NOT_FOUND", httpStatus: 404, path: "/missing", message: "Cannot read /missing: no such file" });
    assert.deepEqual(got.unauthorized, { isClass: true, code: "UNAUTHORIZED" });
  } finally {
    await server.kill("SIGKILL");
  }
});
