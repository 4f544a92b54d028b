// The methods a sandbox and an ExecutionSession share; each is bound to one session
// (undefined = the sandbox's default session). Implementations live in the area modules.
import type { Ctx } from "./core.js";
import * as execs from "./exec.js";
import type { ExecOptions, ExecResult, StreamOptions } from "./exec.js";
import * as files from "./files.js";
import type { ListFilesOptions, UploadBody } from "./files.js";
import { setEnvVars } from "./env.js";
import * as code from "./interpreter.js";
import type { CodeContext, CreateContextOptions, ExecutionResult, RunCodeOptions } from "./interpreter.js";
import * as procs from "./processes.js";
import type { Process, ProcessOptions } from "./processes.js";
import { watch, type WatchHandle, type WatchOptions } from "./watch.js";

export class SessionApi {
  /** @internal */
  protected readonly ctx: Ctx;

  constructor(ctx: Ctx) {
    this.ctx = ctx;
  }

  // ---- commands ----
  exec(command: string, options?: ExecOptions): Promise<ExecResult> {
    return execs.exec(this.ctx, command, options);
  }
  execStream(command: string, options?: StreamOptions): Promise<ReadableStream<Uint8Array>> {
    return execs.execStream(this.ctx, command, options);
  }

  // ---- background processes ----
  startProcess(command: string, options?: ProcessOptions): Promise<Process> {
    return procs.startProcess(this.ctx, command, options);
  }
  listProcesses(): Promise<Process[]> {
    return procs.listProcesses(this.ctx);
  }
  getProcess(id: string): Promise<Process | null> {
    return procs.getProcess(this.ctx, id);
  }
  killProcess(id: string, signal?: string): Promise<void> {
    return procs.killProcess(this.ctx, id, signal);
  }
  killAllProcesses(options?: procs.KillAllOptions): Promise<number> {
    return procs.killAllProcesses(this.ctx, options);
  }
  cleanupCompletedProcesses(): Promise<number> {
    return procs.cleanupCompletedProcesses(this.ctx);
  }
  getProcessLogs(id: string): Promise<{ stdout: string; stderr: string; processId: string }> {
    return procs.getProcessLogs(this.ctx, id);
  }
  streamProcessLogs(processId: string, options?: { signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>> {
    return procs.streamProcessLogs(this.ctx, processId, options);
  }

  // ---- files ----
  writeFile(path: string, content: string | Uint8Array, options?: { encoding?: string }) {
    return files.writeFile(this.ctx, path, content, options);
  }
  readFile(path: string, options?: { encoding?: string }) {
    return files.readFile(this.ctx, path, options);
  }
  readFileStream(path: string, options?: { signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>> {
    return files.readFileStream(this.ctx, path, options);
  }
  mkdir(path: string, options?: { recursive?: boolean }) {
    return files.mkdir(this.ctx, path, options);
  }
  deleteFile(path: string) {
    return files.deleteFile(this.ctx, path);
  }
  renameFile(oldPath: string, newPath: string) {
    return files.renameFile(this.ctx, oldPath, newPath);
  }
  moveFile(sourcePath: string, destinationPath: string) {
    return files.moveFile(this.ctx, sourcePath, destinationPath);
  }
  listFiles(path: string, options?: ListFilesOptions) {
    return files.listFiles(this.ctx, path, options);
  }
  /** `sessionId` (Cloudflare's optional second argument) checks from that session's view. */
  exists(path: string, sessionId?: string) {
    return files.exists(sessionId ? { core: this.ctx.core, sessionId } : this.ctx, path);
  }
  /** Atoll: streams raw bytes into a file. */
  uploadFile(path: string, body: UploadBody, options?: { signal?: AbortSignal }) {
    return files.uploadFile(this.ctx, path, body, options);
  }
  /** Atoll: a file's raw bytes as a stream. */
  downloadFile(path: string, options?: { signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>> {
    return files.downloadFile(this.ctx, path, options);
  }
  /** Atoll: extracts a tar stream into a directory. */
  uploadDirectory(path: string, tar: UploadBody, options?: { signal?: AbortSignal }) {
    return files.uploadDirectory(this.ctx, path, tar, options);
  }
  /** Atoll: a directory as a tar stream. */
  downloadDirectory(path: string, options?: { signal?: AbortSignal }): Promise<ReadableStream<Uint8Array>> {
    return files.downloadDirectory(this.ctx, path, options);
  }
  /** Atoll: file-change events under `path` (await handle.ready before relying on them). */
  watch(path: string, options?: WatchOptions): WatchHandle {
    return watch(this.ctx, path, options);
  }
  gitCheckout(repoUrl: string, options?: { branch?: string; targetDir?: string; depth?: number }) {
    return files.gitCheckout(this.ctx, repoUrl, options);
  }

  // ---- environment ----
  /** Sets (or, with null, unsets) variables for later commands in this session. */
  setEnvVars(envVars: Record<string, string | null>): Promise<void> {
    return setEnvVars(this.ctx, envVars);
  }

  // ---- code interpreter ----
  createCodeContext(options?: CreateContextOptions): Promise<CodeContext> {
    return code.createCodeContext(this.ctx, options);
  }
  runCode(source: string, options?: RunCodeOptions): Promise<ExecutionResult> {
    return code.runCode(this.ctx, source, options);
  }
  runCodeStream(source: string, options?: RunCodeOptions): Promise<ReadableStream<Uint8Array>> {
    return code.runCodeStream(this.ctx, source, options);
  }
  listCodeContexts(): Promise<CodeContext[]> {
    return code.listCodeContexts(this.ctx);
  }
  deleteCodeContext(contextId: string): Promise<void> {
    return code.deleteCodeContext(this.ctx, contextId);
  }
}

/** A session inside a sandbox: its own shell (cwd, env), same methods as the sandbox. */
export class ExecutionSession extends SessionApi {
  readonly id: string;
  constructor(ctx: Ctx & { sessionId: string }) {
    super(ctx);
    this.id = ctx.sessionId;
  }
}
