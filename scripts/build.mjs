// Builds everything that runs without tsx:
//  - what is bind-mounted into every sandbox (packages/agent/dist): the agent (one file), the code
//    interpreter's executors next to it, and esbuild's native binary for TypeScript cells;
//  - the installable libraries @atoll/protocol and @atoll/sdk (packages/*/dist: ESM + .d.ts, by tsc -b);
//  - the `atoll` command as one ESM file (packages/cli/dist/atoll.mjs, by esbuild).
// scripts/pack.mjs turns these into npm tarballs.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

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

// Libraries: tsc emits JS + .d.ts per source file (the SDK's protocol imports become package imports).
execFileSync(process.execPath, [createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-b", "packages/sdk/tsconfig.build.json"], { stdio: "inherit" });
console.log("built packages/protocol/dist, packages/sdk/dist (ESM + .d.ts)");

// The CLI: one entry file (atoll.mjs) with the SDK, protocol and server bundled in; only native
// better-sqlite3 stays outside. What `import()` loads (the commands, the server for `atoll serve`)
// is split into chunks beside it, so `atoll --version` loads a few KB instead of parsing ≈ 570 KB
// and every Node built-in the server uses (≈ 0.25 s more on a loaded 2-core VM; bench/cli-start.ts).
const CLI = "packages/cli/dist";
/**
 * Server modules that find a repository file beside their source (`new URL("../../x.c", import.meta.url)`)
 * would look beside the bundle instead: point them at a copy in dist/assets/<repository path>.
 * Directories are left alone: those come from configuration (the agent: ATOLL_AGENT_DIR).
 */
const repoAssets = {
  name: "repo-assets",
  setup(b) {
    b.onLoad({ filter: /packages\/server\/src\/.*\.ts$/ }, (args) => {
      const contents = readFileSync(args.path, "utf8").replace(/new URL\("([^"]+)", import\.meta\.url\)/g, (whole, rel) => {
        const target = path.resolve(path.dirname(args.path), rel);
        if (!existsSync(target) || statSync(target).isDirectory()) return whole;
        const asset = `assets/${path.relative(process.cwd(), target)}`;
        mkdirSync(path.dirname(`${CLI}/${asset}`), { recursive: true });
        copyFileSync(target, `${CLI}/${asset}`);
        return `new URL(${JSON.stringify("./" + asset)}, import.meta.url)`;
      });
      return { contents, loader: "ts" };
    });
  },
};
mkdirSync(CLI, { recursive: true });
for (const f of readdirSync(CLI)) if (f.endsWith(".mjs") || f === "assets") rmSync(`${CLI}/${f}`, { recursive: true }); // an earlier build
await build({
  entryPoints: { atoll: "packages/cli/src/main.ts" },
  outdir: CLI,
  outExtension: { ".js": ".mjs" },
  chunkNames: "atoll-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  external: ["better-sqlite3"],
  plugins: [repoAssets],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
// The shebang goes on the entry only (a banner would put it on every chunk).
writeFileSync(`${CLI}/atoll.mjs`, "#!/usr/bin/env node\n" + readFileSync(`${CLI}/atoll.mjs`, "utf8"));
chmodSync(`${CLI}/atoll.mjs`, 0o755);
// `atoll serve` from this bundle finds the agent beside it (the packed CLI carries a copy there).
if (!existsSync(`${CLI}/agent`)) symlinkSync("../../agent/dist", `${CLI}/agent`);
console.log(`built ${CLI}/atoll.mjs (+ chunks loaded on demand)`);
