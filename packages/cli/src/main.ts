// Entry point: node --import tsx packages/cli/src/main.ts <command> … (or packages/cli/bin/atoll).
import { run } from "./index.js";

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`atoll: ${(e as Error)?.stack ?? e}`);
    process.exitCode = 1;
  },
);
