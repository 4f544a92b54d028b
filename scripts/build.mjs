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
