// `atoll serve`: node --import tsx packages/server/src/bin.ts (configuration: ATOLL_* env, see docs/control-plane.md).
import { configFromEnv } from "./config.js";
import { startServer } from "./app.js";

// A closed stdout/stderr (the terminal or parent went away) must not turn every log line into an
// EPIPE error whose report fails again: drop output instead of spinning on it.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

// Bad input must never take the control plane down; log and keep serving.
process.on("uncaughtException", (e) => console.error("[atoll] uncaught exception", e));
process.on("unhandledRejection", (e) => console.error("[atoll] unhandled rejection", e));

// ATOLL_STDIN_LIFELINE=1 (set by the test harness): when whoever started us goes away — even by
// SIGKILL — our stdin reaches EOF; shut down as on SIGTERM instead of running on as an orphan.
if (process.env.ATOLL_STDIN_LIFELINE === "1") {
  process.stdin.on("end", () => process.kill(process.pid, "SIGTERM"));
  process.stdin.resume();
}

startServer(configFromEnv()).catch((e) => {
  console.error(`[atoll] Cannot start the control plane: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
});
