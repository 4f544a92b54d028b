// Builds the bundles: the agent (one file, bind-mounted into every sandbox) and the CLI/server.
import { build } from "esbuild";
import { mkdirSync } from "node:fs";

mkdirSync("packages/agent/dist", { recursive: true });
await build({
  entryPoints: ["packages/agent/src/main.ts"],
  outfile: "packages/agent/dist/agent.mjs",
  bundle: true,
  platform: "node",
  target: "node18",
  format: "esm",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
console.log("built packages/agent/dist/agent.mjs");

// Code interpreter runtime, next to agent.mjs: the JS/TS executor bundle, the Python executor,
// and esbuild's native binary (the JS executor runs it to transpile TypeScript cells).
{
  const { cpSync, readdirSync, copyFileSync, chmodSync } = await import("node:fs");
  const { createRequire } = await import("node:module");
  await build({
    entryPoints: ["packages/agent/src/interpreter/js-runner/main.ts"],
    outfile: "packages/agent/dist/js_runner.mjs",
    bundle: true,
    platform: "node",
    target: "node18",
    format: "esm",
    // esbuild's own JS API is bundled in (TypeScript cells) and needs require().
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
  for (const f of readdirSync("packages/agent/runtime")) cpSync(`packages/agent/runtime/${f}`, `packages/agent/dist/${f}`);
  const esbuildBin = createRequire(import.meta.url).resolve("@esbuild/linux-x64/bin/esbuild");
  copyFileSync(esbuildBin, "packages/agent/dist/esbuild");
  chmodSync("packages/agent/dist/esbuild", 0o755);
  console.log("built packages/agent/dist/{js_runner.mjs,python_runner.py,esbuild}");
}
