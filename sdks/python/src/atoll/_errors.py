"""Exception classes for the Atoll error registry (packages/protocol/src/errors.ts).

Every failure the control plane or the agent reports has one shape, ``{code, message, context,
httpStatus}``; :func:`error_from_body` turns it into the class registered for its code. The class
names are the TypeScript SDK's; those about files, permissions and timeouts also derive from the
matching Python built-in (``atoll.FileNotFoundError`` is a ``builtins.FileNotFoundError``), so
``except FileNotFoundError`` works as a Python programmer expects.
"""

from __future__ import annotations

import builtins
from typing import Any


class SandboxError(Exception):
    """Base class: carries the registry ``code``, ``http_status`` and ``context``."""

    code: str
    http_status: int
    context: dict[str, Any]
    timestamp: str | None

    def __init__(
        self,
        message: str,
        code: str = "UNKNOWN_ERROR",
        http_status: int = 500,
        context: dict[str, Any] | None = None,
        timestamp: str | None = None,
    ) -> None:
        Exception.__init__(self, message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.context = context or {}
        self.timestamp = timestamp

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"

    def __reduce__(self) -> Any:
        return (type(self), (self.message, self.code, self.http_status, self.context, self.timestamp))


# files
class FileNotFoundError(SandboxError, builtins.FileNotFoundError):
    pass


class FileExistsError(SandboxError, builtins.FileExistsError):
    pass


class FileSystemError(SandboxError):
    pass


class PermissionDeniedError(SandboxError, builtins.PermissionError):
    pass


# commands and processes
class CommandNotFoundError(SandboxError):
    pass


class CommandError(SandboxError):
    pass


class CommandTimeoutError(SandboxError, builtins.TimeoutError):
    pass


class ProcessNotFoundError(SandboxError):
    pass


class ProcessError(SandboxError):
    pass


class ProcessReadyTimeoutError(SandboxError, builtins.TimeoutError):
    pass


class ProcessExitedBeforeReadyError(SandboxError):
    pass


# sessions
class SessionNotFoundError(SandboxError):
    pass


class SessionExistsError(SandboxError):
    pass


# ports and preview
class PortAlreadyExposedError(SandboxError):
    pass


class PortNotExposedError(SandboxError):
    pass


class InvalidPortError(SandboxError):
    pass


class ServiceNotRespondingError(SandboxError):
    pass


class PortInUseError(SandboxError):
    pass


class PortError(SandboxError):
    pass


class CustomDomainRequiredError(SandboxError):
    pass


class InvalidTokenError(SandboxError):
    pass


# git
class GitRepositoryNotFoundError(SandboxError):
    pass


class GitAuthenticationError(SandboxError):
    pass


class GitBranchNotFoundError(SandboxError):
    pass


class GitNetworkError(SandboxError):
    pass


class GitCloneError(SandboxError):
    pass


class GitCheckoutError(SandboxError):
    pass


class InvalidGitUrlError(SandboxError):
    pass


class GitError(SandboxError):
    pass


# code interpreter
class InterpreterNotReadyError(SandboxError):
    pass


class ContextNotFoundError(SandboxError):
    pass


class CodeExecutionError(SandboxError):
    pass


# control plane
class UnauthorizedError(SandboxError):
    pass


class InvalidSandboxIdError(SandboxError):
    pass


class SandboxNotFoundError(SandboxError):
    pass


class SandboxUnavailableError(SandboxError):
    pass


class SandboxPausedError(SandboxError):
    pass


class SnapshotNotFoundError(SandboxError):
    pass


class TemplateNotFoundError(SandboxError):
    pass


class ValidationFailedError(SandboxError):
    pass

_FS = FileSystemError
#: Registry code → class (the TypeScript SDK's table). Codes not listed raise ``SandboxError``.
BY_CODE: dict[str, type[SandboxError]] = {
    "FILE_NOT_FOUND": FileNotFoundError,
    "FILE_EXISTS": FileExistsError,
    "PERMISSION_DENIED": PermissionDeniedError,
    **{c: _FS for c in ("IS_DIRECTORY", "NOT_DIRECTORY", "DIRECTORY_NOT_EMPTY", "NO_SPACE", "TOO_MANY_FILES",
                        "RESOURCE_BUSY", "READ_ONLY", "NAME_TOO_LONG", "TOO_MANY_LINKS", "INVALID_PATH", "FILESYSTEM_ERROR")},
    "COMMAND_NOT_FOUND": CommandNotFoundError,
    "COMMAND_PERMISSION_DENIED": CommandError,
    "INVALID_COMMAND": CommandError,
    "COMMAND_EXECUTION_ERROR": CommandError,
    "STREAM_START_ERROR": CommandError,
    "COMMAND_TIMEOUT": CommandTimeoutError,
    "PROCESS_NOT_FOUND": ProcessNotFoundError,
    "PROCESS_EXISTS": ProcessError,
    "PROCESS_PERMISSION_DENIED": ProcessError,
    "PROCESS_ERROR": ProcessError,
    "PROCESS_READY_TIMEOUT": ProcessReadyTimeoutError,
    "PROCESS_EXITED_BEFORE_READY": ProcessExitedBeforeReadyError,
    "SESSION_NOT_FOUND": SessionNotFoundError,
    "SESSION_EXISTS": SessionExistsError,
    "PORT_ALREADY_EXPOSED": PortAlreadyExposedError,
    "PORT_NOT_EXPOSED": PortNotExposedError,
    "INVALID_PORT_NUMBER": InvalidPortError,
    "INVALID_PORT": InvalidPortError,
    "SERVICE_NOT_RESPONDING": ServiceNotRespondingError,
    "PORT_IN_USE": PortInUseError,
    "PORT_OPERATION_ERROR": PortError,
    "CUSTOM_DOMAIN_REQUIRED": CustomDomainRequiredError,
    "INVALID_TOKEN": InvalidTokenError,
    "GIT_REPOSITORY_NOT_FOUND": GitRepositoryNotFoundError,
    "GIT_AUTH_FAILED": GitAuthenticationError,
    "GIT_BRANCH_NOT_FOUND": GitBranchNotFoundError,
    "GIT_NETWORK_ERROR": GitNetworkError,
    "GIT_CLONE_FAILED": GitCloneError,
    "GIT_CHECKOUT_FAILED": GitCheckoutError,
    "INVALID_GIT_URL": InvalidGitUrlError,
    "GIT_OPERATION_FAILED": GitError,
    "INTERPRETER_NOT_READY": InterpreterNotReadyError,
    "CONTEXT_NOT_FOUND": ContextNotFoundError,
    "INVALID_LANGUAGE": ValidationFailedError,
    "CODE_EXECUTION_ERROR": CodeExecutionError,
    "UNAUTHORIZED": UnauthorizedError,
    "INVALID_SANDBOX_ID": InvalidSandboxIdError,
    "SANDBOX_NOT_FOUND": SandboxNotFoundError,
    "SANDBOX_UNAVAILABLE": SandboxUnavailableError,
    "SANDBOX_START_FAILED": SandboxUnavailableError,
    "SANDBOX_PAUSED": SandboxPausedError,
    "SNAPSHOT_NOT_FOUND": SnapshotNotFoundError,
    "TEMPLATE_NOT_FOUND": TemplateNotFoundError,
    "VALIDATION_FAILED": ValidationFailedError,
}


def make_error(code: str, message: str, context: dict[str, Any] | None = None, http_status: int = 500) -> SandboxError:
    """The exception for a registry code (client-side failures use this too)."""
    return BY_CODE.get(code, SandboxError)(message, code, http_status, context or {})


def error_from_body(body: Any, status: int, what: str) -> SandboxError:
    """Builds the exception for an error answer; a body without a code becomes UNKNOWN_ERROR."""
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        ctx = body.get("context")
        return BY_CODE.get(body["code"], SandboxError)(
            str(body.get("message") or f"Cannot {what}: HTTP {status}"),
            body["code"],
            int(body.get("httpStatus") or status),
            ctx if isinstance(ctx, dict) else {},
            body.get("timestamp") if isinstance(body.get("timestamp"), str) else None,
        )
    return SandboxError(f"Cannot {what}: HTTP {status}", "UNKNOWN_ERROR", status, {"status": status})
