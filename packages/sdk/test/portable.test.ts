// The main entry must run outside Node (Bun, Deno, Workers): bundling it for a neutral platform
// must not pull in any Node built-in module.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

test("@atoll/sdk bundles for a neutral platform without Node built-ins", async () => {
  const entry = fileURLToPath(new URL("../src/index.ts", import.meta.url));
  const r = await build({ entryPoints: [entry], bundle: true, platform: "neutral", format: "esm", write: false, metafile: true, logLevel: "silent", mainFields: ["module", "main"] });
  const inputs = Object.keys(r.metafile!.inputs);
  assert.ok(inputs.some((i) => i.endsWith("sdk/src/sandbox.ts")));
  const nodeImports = Object.values(r.metafile!.inputs).flatMap((i) => i.imports.filter((x) => x.path.startsWith("node:") || x.external).map((x) => x.path));
  assert.deepEqual(nodeImports, [], `imports left external: ${nodeImports.join(", ")}`);
  const size = r.outputFiles![0]!.contents.length;
  console.log(`# neutral bundle: ${(size / 1024).toFixed(0)} KiB unminified`);
});
