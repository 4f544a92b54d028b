"""Atoll: Python client for self-hosted Atoll sandboxes (sync ``Atoll`` and asyncio ``AsyncAtoll``).

See docs/python.md in the Atoll repository.
"""

from ._async import AsyncAtoll, AsyncProcess, AsyncSandbox, AsyncSession, AsyncStream, AsyncWatch
from ._errors import (
    BY_CODE,
    CodeExecutionError,
    CommandError,
    CommandNotFoundError,
    CommandTimeoutError,
    ContextNotFoundError,
    CustomDomainRequiredError,
    FileExistsError,
    FileNotFoundError,
    FileSystemError,
    GitAuthenticationError,
    GitBranchNotFoundError,
    GitCheckoutError,
    GitCloneError,
    GitError,
    GitNetworkError,
    GitRepositoryNotFoundError,
    InterpreterNotReadyError,
    InvalidGitUrlError,
    InvalidPortError,
    InvalidSandboxIdError,
    InvalidTokenError,
    PermissionDeniedError,
    PortAlreadyExposedError,
    PortError,
    PortInUseError,
    PortNotExposedError,
    ProcessError,
    ProcessExitedBeforeReadyError,
    ProcessNotFoundError,
    ProcessReadyTimeoutError,
    SandboxError,
    SandboxNotFoundError,
    SandboxPausedError,
    SandboxUnavailableError,
    ServiceNotRespondingError,
    SessionExistsError,
    SessionNotFoundError,
    SnapshotNotFoundError,
    TemplateNotFoundError,
    UnauthorizedError,
    ValidationFailedError,
)
from ._sync import Atoll, LogMatch, Process, Sandbox, Session, Stream, Watch
from ._types import (
    CodeContext,
    CodeEvent,
    ExecEvent,
    ExecResult,
    Execution,
    ExecutionError,
    ExposedPort,
    FileInfo,
    ProcessInfo,
    ProcessLogEvent,
    Result,
    WatchEvent,
)

__version__ = "0.1.0"

__all__ = [
    "Atoll", "Sandbox", "Session", "Process", "Stream", "Watch", "LogMatch",
    "AsyncAtoll", "AsyncSandbox", "AsyncSession", "AsyncProcess", "AsyncStream", "AsyncWatch",
    "CodeContext", "CodeEvent", "ExecEvent", "ExecResult", "Execution", "ExecutionError", "ExposedPort",
    "FileInfo", "ProcessInfo", "ProcessLogEvent", "Result", "WatchEvent",
    "BY_CODE", "SandboxError", "CodeExecutionError", "CommandError", "CommandNotFoundError", "CommandTimeoutError",
    "ContextNotFoundError", "CustomDomainRequiredError", "FileExistsError", "FileNotFoundError", "FileSystemError",
    "GitAuthenticationError", "GitBranchNotFoundError", "GitCheckoutError", "GitCloneError", "GitError",
    "GitNetworkError", "GitRepositoryNotFoundError", "InterpreterNotReadyError", "InvalidGitUrlError",
    "InvalidPortError", "InvalidSandboxIdError", "InvalidTokenError", "PermissionDeniedError",
    "PortAlreadyExposedError", "PortError", "PortInUseError", "PortNotExposedError", "ProcessError",
    "ProcessExitedBeforeReadyError", "ProcessNotFoundError", "ProcessReadyTimeoutError", "SandboxNotFoundError",
    "SandboxPausedError", "SandboxUnavailableError", "ServiceNotRespondingError", "SessionExistsError",
    "SessionNotFoundError", "SnapshotNotFoundError", "TemplateNotFoundError", "UnauthorizedError",
    "ValidationFailedError",
]
