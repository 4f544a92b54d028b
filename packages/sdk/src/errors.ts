// SDK error classes. Every error the control plane or agent sends is an ErrorResponse
// ({code, message, context, httpStatus}); errorFromResponse turns it into the class for its code.
// Class names mirror @cloudflare/sandbox 0.4.x so `instanceof FileNotFoundError` code ports as is.
import { ERROR_STATUS, ErrorCode, isErrorCode, type ErrorResponse } from "@atoll/protocol";

export { ErrorCode };
export type { ErrorResponse };

/** Base class: every SDK error carries the registry code, HTTP status and context. */
export class SandboxError extends Error {
  readonly errorResponse: ErrorResponse;
  constructor(errorResponse: ErrorResponse) {
    super(errorResponse.message);
    this.name = "SandboxError";
    this.errorResponse = errorResponse;
  }
  get code(): ErrorCode {
    return this.errorResponse.code;
  }
  get httpStatus(): number {
    return this.errorResponse.httpStatus;
  }
  get context(): Record<string, unknown> {
    return this.errorResponse.context;
  }
  get timestamp(): string | undefined {
    return this.errorResponse.timestamp;
  }
  toJSON() {
    return { name: this.name, message: this.message, code: this.code, httpStatus: this.httpStatus, context: this.context, timestamp: this.timestamp };
  }
}

type Ctor = new (r: ErrorResponse) => SandboxError;

// Declares a named subclass; `name` is set so logs and stack traces show the specific class.
function sub(name: string): Ctor {
  const C = class extends SandboxError {
    constructor(r: ErrorResponse) {
      super(r);
      this.name = name;
    }
  };
  Object.defineProperty(C, "name", { value: name });
  return C;
}

// files
export const FileNotFoundError = sub("FileNotFoundError");
export const FileExistsError = sub("FileExistsError");
export const FileSystemError = sub("FileSystemError");
export const PermissionDeniedError = sub("PermissionDeniedError");
// commands and processes
export const CommandNotFoundError = sub("CommandNotFoundError");
export const CommandError = sub("CommandError");
export const CommandTimeoutError = sub("CommandTimeoutError");
export const ProcessNotFoundError = sub("ProcessNotFoundError");
export const ProcessError = sub("ProcessError");
export const ProcessReadyTimeoutError = sub("ProcessReadyTimeoutError");
export const ProcessExitedBeforeReadyError = sub("ProcessExitedBeforeReadyError");
// sessions
export const SessionNotFoundError = sub("SessionNotFoundError");
export const SessionExistsError = sub("SessionExistsError");
// ports and preview
export const PortAlreadyExposedError = sub("PortAlreadyExposedError");
export const PortNotExposedError = sub("PortNotExposedError");
export const InvalidPortError = sub("InvalidPortError");
export const ServiceNotRespondingError = sub("ServiceNotRespondingError");
export const PortInUseError = sub("PortInUseError");
export const PortError = sub("PortError");
export const CustomDomainRequiredError = sub("CustomDomainRequiredError");
export const InvalidTokenError = sub("InvalidTokenError");
// git
export const GitRepositoryNotFoundError = sub("GitRepositoryNotFoundError");
export const GitAuthenticationError = sub("GitAuthenticationError");
export const GitBranchNotFoundError = sub("GitBranchNotFoundError");
export const GitNetworkError = sub("GitNetworkError");
export const GitCloneError = sub("GitCloneError");
export const GitCheckoutError = sub("GitCheckoutError");
export const InvalidGitUrlError = sub("InvalidGitUrlError");
export const GitError = sub("GitError");
// code interpreter
export const InterpreterNotReadyError = sub("InterpreterNotReadyError");
export const ContextNotFoundError = sub("ContextNotFoundError");
export const CodeExecutionError = sub("CodeExecutionError");
// control plane (Atoll)
export const UnauthorizedError = sub("UnauthorizedError");
export const InvalidSandboxIdError = sub("InvalidSandboxIdError");
export const SandboxNotFoundError = sub("SandboxNotFoundError");
export const SandboxUnavailableError = sub("SandboxUnavailableError");
export const SandboxPausedError = sub("SandboxPausedError");
export const SnapshotNotFoundError = sub("SnapshotNotFoundError");
export const TemplateNotFoundError = sub("TemplateNotFoundError");
export const ValidationFailedError = sub("ValidationFailedError");

// Types for the consts above, so users can annotate: `let e: FileNotFoundError`.
export type FileNotFoundError = SandboxError;
export type ProcessNotFoundError = SandboxError;
export type PortNotExposedError = SandboxError;
export type ContextNotFoundError = SandboxError;

/** Code → class. Codes not listed map to SandboxError itself. */
const BY_CODE: Partial<Record<string, Ctor>> = {
  FILE_NOT_FOUND: FileNotFoundError,
  FILE_EXISTS: FileExistsError,
  PERMISSION_DENIED: PermissionDeniedError,
  IS_DIRECTORY: FileSystemError,
  NOT_DIRECTORY: FileSystemError,
  DIRECTORY_NOT_EMPTY: FileSystemError,
  NO_SPACE: FileSystemError,
  TOO_MANY_FILES: FileSystemError,
  RESOURCE_BUSY: FileSystemError,
  READ_ONLY: FileSystemError,
  NAME_TOO_LONG: FileSystemError,
  TOO_MANY_LINKS: FileSystemError,
  INVALID_PATH: FileSystemError,
  FILESYSTEM_ERROR: FileSystemError,
  COMMAND_NOT_FOUND: CommandNotFoundError,
  COMMAND_PERMISSION_DENIED: CommandError,
  INVALID_COMMAND: CommandError,
  COMMAND_EXECUTION_ERROR: CommandError,
  STREAM_START_ERROR: CommandError,
  COMMAND_TIMEOUT: CommandTimeoutError,
  PROCESS_NOT_FOUND: ProcessNotFoundError,
  PROCESS_EXISTS: ProcessError,
  PROCESS_PERMISSION_DENIED: ProcessError,
  PROCESS_ERROR: ProcessError,
  PROCESS_READY_TIMEOUT: ProcessReadyTimeoutError,
  PROCESS_EXITED_BEFORE_READY: ProcessExitedBeforeReadyError,
  SESSION_NOT_FOUND: SessionNotFoundError,
  SESSION_EXISTS: SessionExistsError,
  PORT_ALREADY_EXPOSED: PortAlreadyExposedError,
  PORT_NOT_EXPOSED: PortNotExposedError,
  INVALID_PORT_NUMBER: InvalidPortError,
  INVALID_PORT: InvalidPortError,
  SERVICE_NOT_RESPONDING: ServiceNotRespondingError,
  PORT_IN_USE: PortInUseError,
  PORT_OPERATION_ERROR: PortError,
  CUSTOM_DOMAIN_REQUIRED: CustomDomainRequiredError,
  INVALID_TOKEN: InvalidTokenError,
  GIT_REPOSITORY_NOT_FOUND: GitRepositoryNotFoundError,
  GIT_AUTH_FAILED: GitAuthenticationError,
  GIT_BRANCH_NOT_FOUND: GitBranchNotFoundError,
  GIT_NETWORK_ERROR: GitNetworkError,
  GIT_CLONE_FAILED: GitCloneError,
  GIT_CHECKOUT_FAILED: GitCheckoutError,
  INVALID_GIT_URL: InvalidGitUrlError,
  GIT_OPERATION_FAILED: GitError,
  INTERPRETER_NOT_READY: InterpreterNotReadyError,
  CONTEXT_NOT_FOUND: ContextNotFoundError,
  INVALID_LANGUAGE: ValidationFailedError,
  CODE_EXECUTION_ERROR: CodeExecutionError,
  UNAUTHORIZED: UnauthorizedError,
  INVALID_SANDBOX_ID: InvalidSandboxIdError,
  SANDBOX_NOT_FOUND: SandboxNotFoundError,
  SANDBOX_UNAVAILABLE: SandboxUnavailableError,
  SANDBOX_START_FAILED: SandboxUnavailableError,
  SANDBOX_PAUSED: SandboxPausedError,
  SNAPSHOT_NOT_FOUND: SnapshotNotFoundError,
  TEMPLATE_NOT_FOUND: TemplateNotFoundError,
  VALIDATION_FAILED: ValidationFailedError,
};

/** Builds the error class for a wire ErrorResponse (unknown codes keep their code, as SandboxError). */
export function errorFromResponse(body: ErrorResponse): SandboxError {
  const C = BY_CODE[body.code] ?? SandboxError;
  return new C(body);
}

/** Builds an SDK-side error with a registry code (status taken from the registry). */
export function sdkError(code: ErrorCode, message: string, context: Record<string, unknown> = {}): SandboxError {
  return errorFromResponse({ code, message, context, httpStatus: ERROR_STATUS[code], timestamp: new Date().toISOString() });
}

/** Normalises any JSON error body (Atoll, Cloudflare, or foreign) into an ErrorResponse. */
export function toErrorResponse(status: number, body: unknown, fallbackMessage: string): ErrorResponse {
  const b = (body && typeof body === "object" ? body : {}) as Record<string, unknown>;
  const code: ErrorCode = isErrorCode(b.code) ? b.code : status === 401 ? ErrorCode.UNAUTHORIZED : status === 404 ? ErrorCode.NOT_FOUND : status === 413 ? ErrorCode.PAYLOAD_TOO_LARGE : status === 503 ? ErrorCode.SANDBOX_UNAVAILABLE : ErrorCode.INTERNAL_ERROR;
  const message = typeof b.message === "string" ? b.message : typeof b.error === "string" ? b.error : fallbackMessage;
  const context = b.context && typeof b.context === "object" ? (b.context as Record<string, unknown>) : {};
  const httpStatus = typeof b.httpStatus === "number" ? b.httpStatus : status;
  return { code, message, context, httpStatus, timestamp: typeof b.timestamp === "string" ? b.timestamp : undefined };
}

/** Reads a non-2xx Response and returns the matching error (consumes the body). */
export async function errorFromHttp(res: Response, what: string): Promise<SandboxError> {
  const text = await res.text().catch(() => "");
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const snippet = text.slice(0, 200).trim();
  return errorFromResponse(toErrorResponse(res.status, body, `Cannot ${what}: HTTP ${res.status}${snippet ? ` ${snippet}` : ""}`));
}

/** True for the DOMException/Error thrown when an AbortSignal fires. */
export function isAbortError(e: unknown): boolean {
  return !!e && typeof e === "object" && ((e as { name?: string }).name === "AbortError" || (e as { name?: string }).name === "TimeoutError");
}
