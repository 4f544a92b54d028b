// @atoll/sdk — a fetch-based client for Atoll sandboxes, with the @cloudflare/sandbox 0.4 surface.
// Runtime-neutral: no Node imports here (Node helpers: "@atoll/sdk/node").
export { AtollClient, createClient, type ClientOptions } from "./client.js";
export { Sandbox, getSandbox, type SandboxOptions } from "./sandbox.js";
export { ExecutionSession } from "./session-api.js";
export type { SessionOptions, SessionDeleteResult } from "./sessions.js";
export type { BaseExecOptions, ExecEvent, ExecOptions, ExecResult, StreamOptions } from "./exec.js";
export { Process, type ProcessLogEvent, type KillAllOptions, type ProcessOptions, type ProcessStatus, type WaitForExitResult, type WaitForLogResult } from "./processes.js";
export type { WaitForPortOptions } from "./wait-port.js";
export type * from "./files.js";
export { WatchHandle, type FileChangeEvent, type WatchEvent, type WatchOptions } from "./watch.js";
export type { ExposePortOptions, ExposePortResult, ExposedPortInfo } from "./ports.js";
export type { ChartData, CodeContext, CreateContextOptions, ExecutionError, ExecutionResult, Language, OutputMessage, Result, ResultData, RunCodeOptions } from "./interpreter.js";
export { asyncIterableToSSEStream, parseSSEStream, responseToAsyncIterable } from "./sse.js";
export { base64ToBytes, bytesToBase64, collectFile, streamFile, type FileChunk, type FileMetadata, type FileStreamEvent } from "./file-stream.js";
export { proxyToSandbox } from "./proxy.js";
export { isExecResult, isProcess, isProcessStatus } from "./guards.js";
export * from "./errors.js";
export type { SandboxInfo, SnapshotInfo, TemplateInfo, TemplateRequest, SandboxLimits, SandboxStatus } from "@atoll/protocol";
