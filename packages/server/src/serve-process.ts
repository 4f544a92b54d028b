// The control plane as a whole process: what `atoll serve` (the CLI) and bin.ts (from source) both
// run — process-level guards, an optional stdin lifeline, then startServer.
import { startServer } from "./app.js";
import type { ServerConfig } from "./config.js";

export interface ServeProcessOptions {
  config: ServerConfig;
  /** Shut down (as on SIGTERM) when stdin reaches EOF: set by the test harness (ATOLL_STDIN_LIFELINE=1). */
  stdinLifeline?: boolean;
}

export function serveProcess(o: ServeProcessOptions): void {
  // A closed stdout/stderr (the terminal or parent went away) must not turn every log line into an
  // EPIPE error whose report fails again: drop output instead of spinning on it.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

  // Bad input must never take the control plane down; log and keep serving.
  process.on("uncaughtException", (e) => console.error("[atoll] uncaught exception", e));
  process.on("unhandledRejection", (e) => console.error("[atoll] unhandled rejection", e));

  // When whoever started us goes away — even by SIGKILL — our stdin reaches EOF; shut down as on
  // SIGTERM instead of running on as an orphan.
  if (o.stdinLifeline) {
    process.stdin.on("end", () => process.kill(process.pid, "SIGTERM"));
    process.stdin.resume();
  }

  startServer(o.config).catch((e) => {
    console.error(`[atoll] Cannot start the control plane: ${(e as Error)?.stack ?? e}`);
    process.exit(1);
  });
}
