"""The /v1 requests, described once for both clients: each function returns a :class:`Req`
(method, path, JSON body or query) that the sync or async transport sends. Paths mirror the
TypeScript SDK: control-plane calls under ``/v1/sandboxes/:id``, agent calls under
``/v1/sandboxes/:id/api/*`` (forwarded by the control plane)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ._errors import make_error

ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    what: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    stream: bool = False


def check_id(sandbox_id: str) -> str:
    if not isinstance(sandbox_id, str) or not ID_RE.match(sandbox_id):
        raise make_error(
            "INVALID_SANDBOX_ID",
            f"Cannot use sandbox id {str(sandbox_id)[:80]!r}: ids are 1-63 chars of a-z, 0-9 and '-', starting and ending with a letter or digit",
            {"id": str(sandbox_id)[:80]},
            400,
        )
    return sandbox_id


def create_body(
    env_vars: dict[str, str] | None = None,
    sleep_after: str | int | None = None,
    keep_alive: bool | None = None,
    template: str | None = None,
    from_snapshot: str | None = None,
    limits: dict[str, float] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if env_vars is not None:
        body["envVars"] = env_vars
    if sleep_after is not None:
        body["sleepAfter"] = sleep_after
    if keep_alive is not None:
        body["keepAlive"] = keep_alive
    if template is not None:
        body["template"] = template
    if from_snapshot is not None:
        body["fromSnapshot"] = from_snapshot
    if limits is not None:
        key = {"memory_mib": "memoryMiB", "disk_mib": "diskMiB"}
        body["limits"] = {key.get(k, k): v for k, v in limits.items()}
    return body


def with_session(body: dict[str, Any], session_id: str | None) -> dict[str, Any]:
    if session_id:
        body["sessionId"] = session_id
    return body


def exec_body(command: str, session_id: str | None, timeout: float | None, env: dict[str, str] | None, cwd: str | None) -> dict[str, Any]:
    if not isinstance(command, str) or not command:
        raise make_error("INVALID_COMMAND", "Cannot run command: command must be a non-empty string", {}, 400)
    body: dict[str, Any] = {"command": command}
    if timeout is not None:
        body["timeoutMs"] = int(timeout * 1000)
    if env:
        body["env"] = env
    if cwd:
        body["cwd"] = cwd
    return with_session(body, session_id)


def file_query(path: str, session_id: str | None) -> dict[str, str]:
    q = {"path": path}
    if session_id:
        q["sessionId"] = session_id
    return q


def check_env(env_vars: dict[str, str | None]) -> None:
    for k, v in env_vars.items():
        if not ENV_NAME_RE.match(k):
            raise make_error("VALIDATION_FAILED", f"Cannot set environment variable {k!r}: names are letters, digits and '_', not starting with a digit", {"name": k}, 400)
        if v is not None and (not isinstance(v, str) or "\0" in v):
            raise make_error("VALIDATION_FAILED", f"Cannot set environment variable {k}: value must be a string without NUL bytes (or None to unset)", {"name": k}, 400)


def code_body(code: str, context_id: str | None, language: str | None, timeout: float | None, env_vars: dict[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code}
    if context_id:
        body["context_id"] = context_id
    else:
        body["language"] = language or "python"
    if timeout is not None:
        body["timeout_ms"] = int(timeout * 1000)
    if env_vars:
        body["env_vars"] = env_vars
    return body


def context_body(language: str, cwd: str, env_vars: dict[str, str] | None, timeout: float | None) -> dict[str, Any]:
    body: dict[str, Any] = {"language": language, "cwd": cwd}
    if env_vars:
        body["env_vars"] = env_vars
    if timeout is not None:
        body["timeout"] = int(timeout * 1000)
    return body


def enc(s: str) -> str:
    return quote(s, safe="")


def port_check_command(port: int, mode: str, path: str) -> str:
    """The one-shot readiness check run inside the sandbox (as the TypeScript SDK's waitForPort)."""
    if mode == "tcp":
        return f"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null"
    p = path if path.startswith("/") else "/" + path
    url = shq(f"http://127.0.0.1:{port}{p}")
    return f"curl -s -o /dev/null -m 2 -w '%{{http_code}}' {url}"


def shq(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def check_port(port: int) -> None:
    if not isinstance(port, int) or port < 1 or port > 65535:
        raise make_error("INVALID_PORT", f"Cannot use port {port!r}: ports are 1-65535", {"port": port}, 400)


TERMINAL = frozenset({"completed", "failed", "killed", "error"})
