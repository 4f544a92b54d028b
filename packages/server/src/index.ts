// @atoll/server: the control plane, for embedding and tests.
export { createApp, startServer, type App, type AppOptions, type UpgradeHook } from "./app.js";
export { configFromEnv, makeConfig, type ServerConfig, DEFAULT_LIMITS, MAX_LIMITS } from "./config.js";
export { SandboxManager } from "./sandboxes/manager.js";
export type { SandboxRuntime } from "./contracts.js";
export type { Driver, SandboxSpec, SandboxEndpoint, DriverSandbox, DriverState } from "./drivers/types.js";
export { serveProcess, type ServeProcessOptions } from "./serve-process.js";
