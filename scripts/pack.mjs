// `npm run pack`: builds (scripts/build.mjs) and packs the installable packages into dist/npm/:
// @atoll/protocol and @atoll/sdk (ESM + .d.ts, sources for the maps) and @atoll/cli (the bundled
// `atoll` command with a copy of the sandbox agent for `atoll serve`). The workspace package.json
// files point at TypeScript sources for the repository's own use; the packed ones are generated
// here: exports point at dist/, the version is the one in packages/protocol/src/version.ts,
// workspace dependencies become that exact version.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

// --out DIR: where the tarballs go (default dist/npm); --no-build: pack what scripts/build.mjs built.
const { values: opts } = parseArgs({ options: { out: { type: "string", default: "dist/npm" }, "no-build": { type: "boolean", default: false } } });
const OUT = resolve(opts.out);
process.chdir(new URL("..", import.meta.url).pathname);
const VERSION = /VERSION = "([^"]+)"/.exec(readFileSync("packages/protocol/src/version.ts", "utf8"))[1];
const pkgJson = (dir) => JSON.parse(readFileSync(`packages/${dir}/package.json`, "utf8"));
const serverDeps = pkgJson("server").dependencies;

if (!opts["no-build"]) execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
rmSync(`${OUT}/stage`, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

/** "./src/x.ts" → { types: "./dist/x.d.ts", default: "./dist/x.js" } */
const built = (src) => ({ types: src.replace(/^\.\/src\//, "./dist/").replace(/\.ts$/, ".d.ts"), default: src.replace(/^\.\/src\//, "./dist/").replace(/\.ts$/, ".js") });

/** Workspace "*" dependencies → the exact version; others kept. */
const deps = (d = {}) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, k.startsWith("@atoll/") ? VERSION : v]));

const common = {
  version: VERSION,
  type: "module",
  sideEffects: false,
};

const packages = {
  protocol: (p) => ({ name: p.name, ...common, description: "Atoll's wire contract: error codes, ids, preview hosts, SSE framing, REST and agent types, the /v1 route declaration and its OpenAPI document", exports: Object.fromEntries(Object.entries(p.exports).map(([k, v]) => [k, built(v)])), types: "./dist/index.d.ts", files: ["dist", "src"], engines: { node: ">=18" }, dependencies: deps(p.dependencies) }),
  sdk: (p) => ({ name: p.name, ...common, description: "Client for Atoll sandboxes with the @cloudflare/sandbox 0.4 surface: Node, Bun, Deno, Cloudflare Workers", exports: Object.fromEntries(Object.entries(p.exports).map(([k, v]) => [k, built(v)])), types: "./dist/index.d.ts", files: ["dist", "src"], engines: { node: ">=18" }, dependencies: deps(p.dependencies) }),
  // Everything but native better-sqlite3 is bundled into dist/.
  cli: (p) => ({ name: p.name, ...common, description: "The atoll command: run the Atoll control plane and drive sandboxes from a shell", bin: { atoll: "dist/atoll.mjs" }, files: ["dist"], engines: { node: ">=20" }, dependencies: { "better-sqlite3": serverDeps["better-sqlite3"] } }),
};

for (const [dir, make] of Object.entries(packages)) {
  const stage = `${OUT}/stage/${dir}`;
  mkdirSync(stage, { recursive: true });
  // dereference: the CLI's dist/agent is a symlink to packages/agent/dist in the repository
  cpSync(`packages/${dir}/dist`, `${stage}/dist`, { recursive: true, dereference: true, filter: (f) => !f.endsWith(".tsbuildinfo") });
  if (dir !== "cli") cpSync(`packages/${dir}/src`, `${stage}/src`, { recursive: true });
  cpSync(`packages/${dir}/README.md`, `${stage}/README.md`);
  writeFileSync(`${stage}/package.json`, JSON.stringify(make(pkgJson(dir)), null, 2) + "\n");
  execFileSync("npm", ["pack", "--silent", "--pack-destination", OUT], { cwd: stage, stdio: ["ignore", "ignore", "inherit"] });
}
rmSync(`${OUT}/stage`, { recursive: true, force: true });
console.log(`packed into ${OUT}/: ${["protocol", "sdk", "cli"].map((d) => `atoll-${d}-${VERSION}.tgz`).join(", ")}`);
