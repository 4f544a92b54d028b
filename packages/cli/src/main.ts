// Entry point of the `atoll` command (bundled into packages/cli/dist/atoll.mjs by scripts/build.mjs;
// from source: packages/cli/bin/atoll). `atoll --version` answers before anything else is loaded.
import { VERSION } from "@atoll/protocol/version";

// `atoll exec box -- yes | head`: a closed stdout ends the CLI quietly (the stream's close kills the command).
for (const s of [process.stdout, process.stderr]) {
  s.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  process.stdout.write(`atoll ${VERSION}\n`);
} else {
  import("./index.js")
    .then(({ run }) => run(argv))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (e) => {
        console.error(`atoll: ${(e as Error)?.stack ?? e}`);
        process.exitCode = 1;
      },
    );
}
