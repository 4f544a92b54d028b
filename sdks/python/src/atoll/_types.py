"""Result types shared by the sync and async clients, and the functions that build them from
the wire's JSON (camelCase on the wire, snake_case here)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

Json = dict[str, Any]


@dataclass(frozen=True)
class ExecResult:
    """A finished command: ``exec`` returns it; ``exit_code`` is non-zero on failure (no exception)."""

    success: bool
    exit_code: int
    stdout: str
    stderr: str
    command: str
    duration_ms: float
    timed_out: bool = False
    session_id: str | None = None


@dataclass(frozen=True)
class ExecEvent:
    """One event of a streamed command: ``start``, ``stdout``, ``stderr``, ``complete`` or ``error``.

    ``data`` holds the output text of stdout/stderr events (as it was produced, not split into
    lines); ``exit_code`` is set on ``complete``; ``raw`` is the wire event.
    """

    type: str
    data: str = ""
    exit_code: int | None = None
    timed_out: bool = False
    raw: Json = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ProcessLogEvent:
    """One event of a process's log stream: ``process_info``, ``stdout``, ``stderr``, ``truncated``, ``exit``, ``error``."""

    type: str
    data: str = ""
    exit_code: int | None = None
    status: str | None = None
    raw: Json = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class ProcessInfo:
    id: str
    command: str
    status: str
    pid: int | None = None
    exit_code: int | None = None
    start_time: str | None = None
    end_time: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class FileInfo:
    name: str
    absolute_path: str
    relative_path: str
    type: Literal["file", "directory", "symlink", "other"]
    size: int
    modified_at: str
    mode: str


@dataclass(frozen=True)
class WatchEvent:
    """A change under a watched path: ``create``, ``modify``, ``delete`` or ``rename``."""

    type: str
    path: str
    is_directory: bool
    old_path: str | None = None


@dataclass(frozen=True)
class ExposedPort:
    port: int
    url: str
    name: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class CodeContext:
    id: str
    language: str
    cwd: str


@dataclass(frozen=True)
class Result:
    """One rich result of ``run_code`` (a ``display()`` call or the cell's last value).

    Images are bytes (decoded from the wire's base64); ``json`` is the parsed value; ``chart`` is
    Atoll's description of a matplotlib figure; ``data`` holds any other MIME types.
    """

    text: str | None = None
    html: str | None = None
    png: bytes | None = None
    jpeg: bytes | None = None
    svg: str | None = None
    latex: str | None = None
    markdown: str | None = None
    javascript: str | None = None
    json: Any = None
    chart: Json | None = None
    data: Json | None = None
    is_main_result: bool = False

    def formats(self) -> list[str]:
        """Names of the formats present, e.g. ``["text", "png", "svg", "chart"]``."""
        names = ("text", "html", "png", "jpeg", "svg", "latex", "markdown", "javascript", "json", "chart", "data")
        return [n for n in names if getattr(self, n) is not None]


@dataclass(frozen=True)
class ExecutionError:
    """An exception raised by the user's code (not an SDK failure)."""

    name: str
    value: str
    traceback: list[str]


@dataclass
class Execution:
    """What ``run_code`` returns: output lines, rich results and the user code's error, if any."""

    code: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    error: ExecutionError | None = None
    execution_count: int | None = None

    @property
    def text(self) -> str | None:
        """Text of the main result (the cell's last value), if any."""
        for r in self.results:
            if r.is_main_result:
                return r.text
        return None


@dataclass(frozen=True)
class CodeEvent:
    """One event of ``run_code_stream``: ``stdout``, ``stderr``, ``result``, ``error``, ``execution_complete``."""

    type: str
    text: str = ""
    result: Result | None = None
    error: ExecutionError | None = None
    raw: Json = field(default_factory=dict, repr=False)


# ---- builders from wire JSON ----


def exec_result(r: Json, command: str, session_id: str | None) -> ExecResult:
    code = r.get("exitCode")
    exit_code = int(code) if isinstance(code, int) else -1
    return ExecResult(
        success=bool(r.get("success", exit_code == 0)),
        exit_code=exit_code,
        stdout=str(r.get("stdout") or ""),
        stderr=str(r.get("stderr") or ""),
        command=str(r.get("command") or command),
        duration_ms=float(r.get("duration") or 0),
        timed_out=bool(r.get("timedOut", False)),
        session_id=r.get("sessionId") or session_id,
    )


def exec_event(ev: Json) -> ExecEvent:
    t = str(ev.get("type", ""))
    if t in ("stdout", "stderr"):
        return ExecEvent(t, data=str(ev.get("data", "")), raw=ev)
    if t == "complete":
        r = ev.get("result")
        res: Json = r if isinstance(r, dict) else {}
        code = ev.get("exitCode", res.get("exitCode"))
        return ExecEvent(t, exit_code=code if isinstance(code, int) else -1, timed_out=bool(ev.get("timedOut", res.get("timedOut", False))), raw=ev)
    if t == "error":
        return ExecEvent(t, data=str(ev.get("error", "")), raw=ev)
    return ExecEvent(t, raw=ev)


def process_info(p: Json) -> ProcessInfo:
    return ProcessInfo(
        id=str(p["id"]),
        command=str(p.get("command", "")),
        status=str(p.get("status", "running")),
        pid=p.get("pid"),
        exit_code=p.get("exitCode"),
        start_time=p.get("startTime"),
        end_time=p.get("endTime"),
        session_id=p.get("sessionId"),
    )


def process_log_event(ev: Json) -> ProcessLogEvent:
    return ProcessLogEvent(
        type=str(ev.get("type", "")),
        data=str(ev.get("data") or ev.get("error") or ""),
        exit_code=ev.get("exitCode"),
        status=ev.get("status"),
        raw=ev,
    )


def file_info(f: Json) -> FileInfo:
    return FileInfo(
        name=f["name"],
        absolute_path=f["absolutePath"],
        relative_path=f.get("relativePath", f["name"]),
        type=f.get("type", "other"),
        size=int(f.get("size", 0)),
        modified_at=str(f.get("modifiedAt", "")),
        mode=str(f.get("mode", "")),
    )


def watch_event(ev: Json) -> WatchEvent:
    return WatchEvent(type=ev["type"], path=ev["path"], is_directory=bool(ev.get("isDirectory")), old_path=ev.get("oldPath"))


def exposed_port(p: Json) -> ExposedPort:
    return ExposedPort(port=int(p["port"]), url=str(p["url"]), name=p.get("name"), status=p.get("status"))


def code_context(c: Json) -> CodeContext:
    return CodeContext(id=str(c.get("id") or c.get("contextId")), language=str(c.get("language", "python")), cwd=str(c.get("cwd", "/workspace")))


def _b64(v: Any) -> bytes | None:
    return base64.b64decode(v) if isinstance(v, str) else None


def result(ev: Json) -> Result:
    return Result(
        text=ev.get("text"),
        html=ev.get("html"),
        png=_b64(ev.get("png")),
        jpeg=_b64(ev.get("jpeg")),
        svg=ev.get("svg"),
        latex=ev.get("latex"),
        markdown=ev.get("markdown"),
        javascript=ev.get("javascript"),
        json=ev.get("json"),
        chart=ev.get("chart"),
        data=ev.get("data"),
        is_main_result=bool(ev.get("is_main_result", False)),
    )


def code_event(ev: Json) -> CodeEvent:
    t = str(ev.get("type", ""))
    if t in ("stdout", "stderr"):
        return CodeEvent(t, text=str(ev.get("text", "")), raw=ev)
    if t == "result":
        return CodeEvent(t, result=result(ev), raw=ev)
    if t == "error":
        tb = ev.get("traceback")
        return CodeEvent(t, error=ExecutionError(str(ev.get("ename") or "Error"), str(ev.get("evalue") or ""), list(tb) if isinstance(tb, list) else []), raw=ev)
    return CodeEvent(t, raw=ev)
