// The control plane from source: node --import tsx packages/server/src/bin.ts (configuration:
// ATOLL_* env, see docs/control-plane.md). The built `atoll serve` runs the same serveProcess().
import { configFromEnv } from "./config.js";
import { serveProcess } from "./serve-process.js";

// ATOLL_STDIN_LIFELINE=1 (set by the test harness): shut down when the parent goes away.
serveProcess({ config: configFromEnv(), stdinLifeline: process.env.ATOLL_STDIN_LIFELINE === "1" });
