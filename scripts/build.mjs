// Builds what is bind-mounted into every sandbox (packages/agent/dist): the agent (one file), the
// code interpreter's executors next to it, and esbuild's native binary for TypeScript cells.
import { build } from "esbuild";
import { chmodSync, copyFileSync, cpSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";

const DIST = "packages/agent/dist";

/** One ESM file for the sandbox's Node (18+); bundled CommonJS deps (esbuild's JS API) need require(). */
function bundleForSandbox(entry, outfile) {
  return build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "esm",
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
}

mkdirSync(DIST, { recursive: true });
await bundleForSandbox("packages/agent/src/main.ts", `${DIST}/agent.mjs`);
console.log(`built ${DIST}/agent.mjs`);

await bundleForSandbox("packages/agent/src/interpreter/js-runner/main.ts", `${DIST}/js_runner.mjs`);
for (const f of readdirSync("packages/agent/runtime")) cpSync(`packages/agent/runtime/${f}`, `${DIST}/${f}`);
copyFileSync(createRequire(import.meta.url).resolve("@esbuild/linux-x64/bin/esbuild"), `${DIST}/esbuild`);
chmodSync(`${DIST}/esbuild`, 0o755);
console.log(`built ${DIST}/{js_runner.mjs,python_runner.py,entry.sh,esbuild}`);
