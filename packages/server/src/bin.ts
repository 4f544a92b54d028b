// `atoll serve`: node --import tsx packages/server/src/bin.ts (configuration: ATOLL_* env, see docs/control-plane.md).
import { configFromEnv } from "./config.js";
import { startServer } from "./app.js";

// Bad input must never take the control plane down; log and keep serving.
process.on("uncaughtException", (e) => console.error("[atoll] uncaught exception", e));
process.on("unhandledRejection", (e) => console.error("[atoll] unhandled rejection", e));

startServer(configFromEnv()).catch((e) => {
  console.error(`[atoll] Cannot start the control plane: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
});
