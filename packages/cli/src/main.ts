// Entry point: node --import tsx packages/cli/src/main.ts <command> … (or packages/cli/bin/atoll).
import { run } from "./index.js";

// `atoll exec box -- yes | head`: a closed stdout ends the CLI quietly (the stream's close kills the command).
for (const s of [process.stdout, process.stderr]) {
  s.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`atoll: ${(e as Error)?.stack ?? e}`);
    process.exitCode = 1;
  },
);
