"""The synchronous client: ``Atoll`` → ``Sandbox`` (and ``Session``), ``Process``, ``Stream``.

Built on ``httpx.Client`` (Debian's ``python3-httpx``). Requests are described in ``_wire``;
results are the dataclasses of ``_types``; errors are the registry classes of ``_errors``.
Timeouts are in seconds.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, Generic, TypeVar, cast

import httpx

from . import _types as T
from . import _wire as W
from ._errors import SandboxError, error_from_body, make_error
from ._sse import SSEParser

E = TypeVar("E")

DEFAULT_URL = "http://127.0.0.1:8787"
_NO_READ_TIMEOUT = httpx.Timeout(30.0, read=None, write=None)


@dataclass(frozen=True)
class LogMatch:
    """What ``wait_for_log`` found: the line (without its newline) and the regex match, if any."""

    line: str
    match: re.Match[str] | None = None


class Stream(Generic[E]):
    """An iterator over a streamed answer. Use it in ``with`` (or call ``close()``) to end the
    request early; iterating to the end closes it too."""

    def __init__(self, gen: Generator[E, None, None]) -> None:
        self._gen = gen

    def __iter__(self) -> Iterator[E]:
        return self._gen

    def __next__(self) -> E:
        return next(self._gen)

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> Stream[E]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Transport:
    def __init__(self, url: str, api_key: str | None, timeout: httpx.Timeout, http: httpx.Client | None) -> None:
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.http = http or httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def send(self, req: W.Req, content: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            res = self.http.request(req.method, req.path, json=req.json, params=req.params or None, content=content, headers=headers)
        except httpx.TransportError as e:
            raise make_error("SANDBOX_UNAVAILABLE", f"Cannot {req.what}: no answer from {self.url} ({e})", {"url": self.url}, 503) from e
        if res.status_code >= 400:
            raise error_from_body(_safe_json(res), res.status_code, req.what)
        return res

    def json(self, req: W.Req) -> Any:
        res = self.send(req)
        return res.json() if res.content else {}

    @contextmanager
    def open(self, req: W.Req, timeout: float | None = None) -> Iterator[httpx.Response]:
        """A streamed request; the answer is checked for an error status before it is handed out."""
        extra: dict[str, Any] = {"timeout": httpx.Timeout(30.0, read=timeout)} if timeout is not None else {}
        try:
            with self.http.stream(req.method, req.path, json=req.json, params=req.params or None, headers={"accept": "text/event-stream"}, **extra) as res:
                if res.status_code >= 400:
                    res.read()
                    raise error_from_body(_safe_json(res), res.status_code, req.what)
                yield res
        except httpx.ReadTimeout as e:
            raise make_error("COMMAND_TIMEOUT", f"Cannot {req.what}: timed out after {timeout} s", {"timeout": timeout}, 408) from e
        except httpx.TransportError as e:
            raise make_error("SANDBOX_UNAVAILABLE", f"Cannot {req.what}: no answer from {self.url} ({e})", {"url": self.url}, 503) from e

    def events(self, req: W.Req, timeout: float | None = None) -> Generator[dict[str, Any], None, None]:
        with self.open(req, timeout) as res:
            parser = SSEParser()
            for line in res.iter_lines():
                ev = parser.line(line)
                if ev is not None:
                    yield ev
            last = parser.flush()
            if last is not None:
                yield last


def _safe_json(res: httpx.Response) -> Any:
    try:
        return res.json()
    except ValueError:
        return None


class Atoll:
    """A connection to an Atoll control plane.

    >>> with Atoll("http://127.0.0.1:8787", api_key="atoll_...") as client:
    ...     sb = client.sandbox("my-box")
    ...     print(sb.exec("echo hi").stdout)
    """

    def __init__(self, url: str = DEFAULT_URL, api_key: str | None = None, *, timeout: httpx.Timeout = _NO_READ_TIMEOUT, http: httpx.Client | None = None) -> None:
        if not re.match(r"^https?://", url or "", re.I):
            raise make_error("VALIDATION_FAILED", f"Cannot create client: url must be an http(s) URL, got {url!r}", {"url": url}, 400)
        self._t = _Transport(url, api_key, timeout, http)
        self.url = self._t.url

    def sandbox(
        self,
        sandbox_id: str,
        *,
        env_vars: dict[str, str] | None = None,
        sleep_after: str | int | None = None,
        keep_alive: bool | None = None,
        template: str | None = None,
        from_snapshot: str | None = None,
        limits: dict[str, float] | None = None,
        destroy_on_exit: bool = False,
    ) -> Sandbox:
        """Gets the sandbox ``sandbox_id``, creating it when it does not exist (options apply then).

        With ``destroy_on_exit=True`` leaving a ``with`` block on the sandbox destroys it.
        """
        body = W.create_body(env_vars, sleep_after, keep_alive, template, from_snapshot, limits)
        sb = Sandbox(self._t, W.check_id(sandbox_id), body, destroy_on_exit)
        sb._ensure()
        return sb

    def health(self) -> dict[str, Any]:
        return dict(self._t.json(W.Req("GET", "/v1/health", "check health")))

    def list_sandboxes(self) -> list[dict[str, Any]]:
        return list(self._t.json(W.Req("GET", "/v1/sandboxes", "list sandboxes"))["sandboxes"])

    def list_snapshots(self) -> list[dict[str, Any]]:
        return list(self._t.json(W.Req("GET", "/v1/snapshots", "list snapshots"))["snapshots"])

    def delete_snapshot(self, name: str) -> None:
        self._t.json(W.Req("DELETE", f"/v1/snapshots/{W.enc(name)}", f"delete snapshot {name}"))

    def close(self) -> None:
        self._t.http.close()

    def __enter__(self) -> Atoll:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Ops:
    """Everything that runs in a sandbox's shell session: commands, processes, files, code."""

    _sb: Sandbox
    session_id: str | None

    # ---- transport helpers (the sandbox creates itself again when the control plane lost it) ----

    def _json(self, req: W.Req) -> Any:
        return self._sb._call(lambda: self._sb._t.json(req))

    def _api(self, method: str, route: str, what: str, json: Any = None, params: dict[str, str] | None = None) -> W.Req:
        return W.Req(method, f"{self._sb._base}/api{route}", what, json=json, params=params or {})

    # ---- commands ----

    def exec(
        self,
        command: str,
        *,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        on_output: Callable[[str, str], None] | None = None,
    ) -> T.ExecResult:
        """Runs a command to completion. ``on_output(stream, data)`` receives output as it comes."""
        if on_output is None:
            r = self._json(self._api("POST", "/execute", "run command", W.exec_body(command, self.session_id, timeout, env, cwd)))
            return T.exec_result(r, command, self.session_id)
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        started = time.monotonic()
        with self.exec_stream(command, timeout=timeout, env=env, cwd=cwd) as events:
            for ev in events:
                if ev.type in out:
                    out[ev.type].append(ev.data)
                    on_output(ev.type, ev.data)
                elif ev.type == "complete":
                    code = ev.exit_code if ev.exit_code is not None else -1
                    return T.ExecResult(code == 0, code, "".join(out["stdout"]), "".join(out["stderr"]), command, (time.monotonic() - started) * 1000, ev.timed_out, self.session_id)
        raise make_error("COMMAND_EXECUTION_ERROR", "Cannot run command: the output stream ended before the command completed", {"command": command})

    def exec_stream(self, command: str, *, timeout: float | None = None, env: dict[str, str] | None = None, cwd: str | None = None) -> Stream[T.ExecEvent]:
        """Runs a command and yields its events (``start``, ``stdout``, ``stderr``, ``complete``) as they happen.
        Closing the stream early kills the command."""
        req = self._api("POST", "/execute/stream", "stream command", W.exec_body(command, self.session_id, timeout, env, cwd))

        def gen() -> Generator[T.ExecEvent, None, None]:
            self._sb._ensure()
            for raw in self._sb._t.events(req):
                ev = T.exec_event(raw)
                if ev.type == "error":
                    raise make_error(str(raw.get("code") or "COMMAND_EXECUTION_ERROR"), f"Cannot run command: {ev.data}", {"command": command})
                yield ev

        return Stream(gen())

    # ---- background processes ----

    def start_process(
        self,
        command: str,
        *,
        process_id: str | None = None,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        auto_cleanup: bool | None = None,
    ) -> Process:
        """Starts a background process and returns its handle."""
        body = W.exec_body(command, self.session_id, timeout, env, cwd)
        if process_id:
            body["processId"] = process_id
        if auto_cleanup is not None:
            body["autoCleanup"] = auto_cleanup
        r = self._json(self._api("POST", "/process/start", "start process", body))
        return Process(self, T.ProcessInfo(id=r["processId"], command=r.get("command", command), status="running", pid=r.get("pid"), session_id=self.session_id))

    def list_processes(self) -> list[Process]:
        r = self._json(self._api("GET", "/process/list", "list processes"))
        return [Process(self, T.process_info(p)) for p in r["processes"]]

    def get_process(self, process_id: str) -> Process | None:
        """The process, or None when the sandbox does not know it."""
        try:
            r = self._json(self._api("GET", f"/process/{W.enc(process_id)}", f"get process {process_id}"))
        except SandboxError as e:
            if e.code == "PROCESS_NOT_FOUND":
                return None
            raise
        return Process(self, T.process_info(r["process"]))

    def kill_process(self, process_id: str, signal: str | None = None) -> None:
        self._json(self._api("DELETE", f"/process/{W.enc(process_id)}", f"kill process {process_id}", params={"signal": signal} if signal else None))

    def kill_all_processes(self) -> int:
        r = self._json(self._api("DELETE", "/process/kill-all", "kill all processes"))
        return int(r.get("cleanedCount") or r.get("killedCount") or 0)

    def get_process_logs(self, process_id: str) -> dict[str, str]:
        """``{"stdout": ..., "stderr": ...}`` collected so far."""
        r = self._json(self._api("GET", f"/process/{W.enc(process_id)}/logs", f"get logs of process {process_id}"))
        return {"stdout": str(r.get("stdout", "")), "stderr": str(r.get("stderr", ""))}

    def stream_process_logs(self, process_id: str, *, timeout: float | None = None) -> Stream[T.ProcessLogEvent]:
        """The process's output as events (earlier output replayed first), until it exits."""
        req = self._api("GET", f"/process/{W.enc(process_id)}/stream", f"stream logs of process {process_id}")

        def gen() -> Generator[T.ProcessLogEvent, None, None]:
            self._sb._ensure()
            for raw in self._sb._t.events(req, timeout):
                yield T.process_log_event(raw)

        return Stream(gen())

    # ---- files ----

    def write_file(self, path: str, content: str | bytes) -> None:
        """Writes text (UTF-8) or bytes. Large content goes through the raw byte route."""
        if isinstance(content, (bytes, bytearray, memoryview)) or len(content) > (4 << 20):
            self.upload_file(path, content.encode() if isinstance(content, str) else bytes(content))
            return
        self._json(self._api("POST", "/write", f"write {path}", W.with_session({"path": path, "content": content}, self.session_id)))

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes (one request, no base64)."""
        req = self._api("GET", "/files/raw", f"read {path}", params=W.file_query(path, self.session_id))
        return bytes(self._sb._call(lambda: self._sb._t.send(req)).content)

    def read_file(self, path: str, encoding: str = "utf-8") -> str:
        """The file as text."""
        return self.read_bytes(path).decode(encoding)

    def upload_file(self, path: str, data: bytes | Iterable[bytes] | IO[bytes]) -> int:
        """Streams bytes (a bytes object, an iterable of chunks or a binary file) into ``path``; returns bytes written."""
        req = self._api("PUT", "/files/raw", f"upload {path}", params=W.file_query(path, self.session_id))
        body: Any = _chunks(cast(IO[bytes], data)) if hasattr(data, "read") else data
        self._sb._ensure()
        res = self._sb._t.send(req, content=body, headers={"content-type": "application/octet-stream"})
        return int(res.json().get("bytesWritten", 0))

    def download_file(self, path: str, chunk_size: int = 1 << 16) -> Stream[bytes]:
        """The file's bytes as a stream of chunks."""
        req = self._api("GET", "/files/raw", f"download {path}", params=W.file_query(path, self.session_id))

        def gen() -> Generator[bytes, None, None]:
            self._sb._ensure()
            with self._sb._t.open(req) as res:
                yield from res.iter_bytes(chunk_size)

        return Stream(gen())

    def mkdir(self, path: str, *, recursive: bool = False) -> None:
        self._json(self._api("POST", "/mkdir", f"create directory {path}", W.with_session({"path": path, "recursive": recursive}, self.session_id)))

    def delete_file(self, path: str) -> None:
        self._json(self._api("POST", "/delete", f"delete {path}", W.with_session({"path": path}, self.session_id)))

    def rename_file(self, old_path: str, new_path: str) -> None:
        self._json(self._api("POST", "/rename", f"rename {old_path}", W.with_session({"oldPath": old_path, "newPath": new_path}, self.session_id)))

    def move_file(self, source_path: str, destination_path: str) -> None:
        self._json(self._api("POST", "/move", f"move {source_path}", W.with_session({"sourcePath": source_path, "destinationPath": destination_path}, self.session_id)))

    def list_files(self, path: str, *, recursive: bool = False, include_hidden: bool = False) -> list[T.FileInfo]:
        body = W.with_session({"path": path, "options": {"recursive": recursive, "includeHidden": include_hidden}}, self.session_id)
        return [T.file_info(f) for f in self._json(self._api("POST", "/list-files", f"list {path}", body))["files"]]

    def exists(self, path: str) -> bool:
        return bool(self._json(self._api("POST", "/exists", f"check {path}", W.with_session({"path": path}, self.session_id))).get("exists"))

    def watch(self, path: str, *, recursive: bool = False, include_hidden: bool = False) -> Watch:
        """Watches ``path``; iterate the returned handle for changes. Changes made after
        ``watch()`` returns are never missed (it returns once the watchers are in place)."""
        body = W.with_session({"path": path, "recursive": recursive, "includeHidden": include_hidden}, self.session_id)
        self._sb._ensure()
        return Watch(self._sb._t.events(self._api("POST", "/watch", f"watch {path}", body)), path)

    def git_checkout(self, repo_url: str, *, branch: str | None = None, target_dir: str | None = None, depth: int | None = None) -> dict[str, Any]:
        name = re.sub(r"\.git$", "", re.split(r"[/:]", repo_url.rstrip("/"))[-1]) or "repo"
        body: dict[str, Any] = {"repoUrl": repo_url, "targetDir": target_dir or f"/workspace/{name}"}
        if branch:
            body["branch"] = branch
        if depth is not None:
            body["depth"] = depth
        return dict(self._json(self._api("POST", "/git/checkout", f"check out {repo_url}", W.with_session(body, self.session_id))))

    def set_env_vars(self, env_vars: dict[str, str | None]) -> None:
        """Sets (or with None, unsets) variables in this session's shell."""
        W.check_env(env_vars)
        self._json(self._api("POST", "/env", "set environment variables", W.with_session({"envVars": env_vars}, self.session_id)))

    # ---- code interpreter ----

    def create_code_context(self, *, language: str = "python", cwd: str = "/workspace", env_vars: dict[str, str] | None = None, timeout: float | None = None) -> T.CodeContext:
        """A new interpreter context (state persists between runs in it)."""
        return T.code_context(self._json(self._api("POST", "/contexts", "create code context", W.context_body(language, cwd, env_vars, timeout))))

    def list_code_contexts(self) -> list[T.CodeContext]:
        return [T.code_context(c) for c in self._json(self._api("GET", "/contexts", "list code contexts"))["contexts"]]

    def delete_code_context(self, context: T.CodeContext | str) -> None:
        cid = context if isinstance(context, str) else context.id
        self._json(self._api("DELETE", f"/contexts/{W.enc(cid)}", f"delete code context {cid}"))

    def run_code_stream(self, code: str, *, context: T.CodeContext | None = None, language: str | None = None, timeout: float | None = None, env_vars: dict[str, str] | None = None) -> Stream[T.CodeEvent]:
        """Runs code and yields its events as they happen (stdout, stderr, result, error, execution_complete)."""
        req = self._api("POST", "/execute/code", "run code", W.code_body(code, context.id if context else None, language, timeout, env_vars))

        def gen() -> Generator[T.CodeEvent, None, None]:
            self._sb._ensure()
            for raw in self._sb._t.events(req):
                if raw.get("type") == "error" and raw.get("code"):  # the interpreter's own failure
                    raise make_error(str(raw["code"]), f"Cannot run code: {raw.get('evalue') or raw.get('ename')}", {"ename": raw.get("ename")})
                yield T.code_event(raw)

        return Stream(gen())

    def run_code(
        self,
        code: str,
        *,
        context: T.CodeContext | None = None,
        language: str | None = None,
        timeout: float | None = None,
        env_vars: dict[str, str] | None = None,
        on_stdout: Callable[[str], None] | None = None,
        on_stderr: Callable[[str], None] | None = None,
        on_result: Callable[[T.Result], None] | None = None,
    ) -> T.Execution:
        """Runs code (Python by default) and returns its output, rich results and error.
        An exception in the user's code is ``execution.error``, not a raised exception."""
        out = T.Execution(code=code)
        with self.run_code_stream(code, context=context, language=language, timeout=timeout, env_vars=env_vars) as events:
            for ev in events:
                _collect(out, ev)
                if ev.type == "stdout" and on_stdout:
                    on_stdout(ev.text)
                elif ev.type == "stderr" and on_stderr:
                    on_stderr(ev.text)
                elif ev.result is not None and on_result:
                    on_result(ev.result)
        return out


def _collect(out: T.Execution, ev: T.CodeEvent) -> None:
    if ev.type == "stdout":
        out.stdout.append(ev.text)
    elif ev.type == "stderr":
        out.stderr.append(ev.text)
    elif ev.result is not None:
        out.results.append(ev.result)
    elif ev.error is not None:
        out.error = ev.error
    elif ev.type == "execution_complete":
        out.execution_count = ev.raw.get("execution_count")


def _chunks(f: IO[bytes], size: int = 1 << 20) -> Iterator[bytes]:
    while chunk := f.read(size):
        yield chunk



class Sandbox(_Ops):
    """A sandbox: everything of a session (its default session) plus ports, sessions and lifecycle."""

    def __init__(self, t: _Transport, sandbox_id: str, create: dict[str, Any], destroy_on_exit: bool) -> None:
        self._t = t
        self._sb = self
        self.id = sandbox_id
        self.session_id = None
        self._base = f"/v1/sandboxes/{sandbox_id}"
        self._create = create
        self._ensured = False
        self.destroy_on_exit = destroy_on_exit
        self.info: dict[str, Any] = {}

    def _ensure(self) -> None:
        if not self._ensured:
            self.info = dict(self._t.json(W.Req("PUT", self._base, f"create sandbox {self.id}", json=self._create)))
            self._ensured = True

    def _call(self, fn: Callable[[], Any]) -> Any:
        self._ensure()
        try:
            return fn()
        except SandboxError as e:
            if e.code != "SANDBOX_NOT_FOUND":
                raise
            self._ensured = False  # destroyed elsewhere: create it again and retry once
            self._ensure()
            return fn()

    def _v1(self, method: str, route: str, what: str, json: Any = None) -> Any:
        return self._call(lambda: self._t.json(W.Req(method, self._base + route, what, json=json)))

    # ---- sessions ----

    def create_session(self, *, id: str | None = None, env: dict[str, str] | None = None, cwd: str | None = None) -> Session:
        """A new shell session (its own cwd and environment)."""
        body: dict[str, Any] = {k: v for k, v in {"id": id, "env": env, "cwd": cwd}.items() if v}
        r = self._json(self._api("POST", "/session/create", "create session", body))
        return Session(self, str(r.get("sessionId") or r.get("id") or id))

    def get_session(self, session_id: str) -> Session:
        """A handle for an existing session (not checked)."""
        return Session(self, session_id)

    def delete_session(self, session_id: str) -> None:
        self._json(self._api("POST", "/session/delete", f"delete session {session_id}", {"sessionId": session_id}))

    # ---- ports ----

    def expose_port(self, port: int, *, name: str | None = None, hostname: str | None = None) -> T.ExposedPort:
        """Exposes ``port`` and returns its preview URL."""
        W.check_port(port)
        body: dict[str, Any] = {"port": port, **({"name": name} if name else {}), **({"hostname": hostname} if hostname else {})}
        r = self._v1("POST", "/ports", f"expose port {port}", body)
        return T.ExposedPort(port=int(r.get("port", port)), url=str(r["url"]), name=r.get("name", name), status=r.get("status"))

    def unexpose_port(self, port: int) -> None:
        self._v1("DELETE", f"/ports/{port}", f"unexpose port {port}")

    def get_exposed_ports(self) -> list[T.ExposedPort]:
        return [T.exposed_port(p) for p in self._v1("GET", "/ports", "list exposed ports")["ports"]]

    # ---- lifecycle ----

    def get_info(self) -> dict[str, Any]:
        self.info = dict(self._v1("GET", "", f"get sandbox {self.id}"))
        return self.info

    def set_keep_alive(self, keep_alive: bool) -> None:
        self.info = dict(self._v1("PATCH", "", f"update sandbox {self.id}", {"keepAlive": keep_alive}))

    def set_sleep_after(self, sleep_after: str | int) -> None:
        self.info = dict(self._v1("PATCH", "", f"update sandbox {self.id}", {"sleepAfter": sleep_after}))

    def sleep(self) -> None:
        """Stops the sandbox now, keeping its files; the next call wakes it."""
        self.info = dict(self._v1("POST", "/sleep", f"sleep sandbox {self.id}"))

    def pause(self) -> None:
        """Freezes every process (calls answer SANDBOX_PAUSED until resume())."""
        self.info = dict(self._v1("POST", "/pause", f"pause sandbox {self.id}"))

    def resume(self) -> None:
        self.info = dict(self._v1("POST", "/resume", f"resume sandbox {self.id}"))

    def snapshot(self, name: str | None = None) -> dict[str, Any]:
        """Snapshots the filesystem; create from it with ``client.sandbox(id, from_snapshot=name)``."""
        return dict(self._v1("POST", "/snapshots", f"snapshot sandbox {self.id}", {"name": name} if name else {}))

    def destroy(self) -> None:
        """Destroys the sandbox (idempotent; a later call on this handle creates a fresh one)."""
        try:
            self._t.json(W.Req("DELETE", self._base, f"destroy sandbox {self.id}"))
        except SandboxError as e:
            if e.code != "SANDBOX_NOT_FOUND":
                raise
        finally:
            self._ensured = False

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.destroy_on_exit:
            self.destroy()


class Session(_Ops):
    """A shell session of a sandbox: the same commands, processes, files and code as the sandbox, bound to it."""

    def __init__(self, sandbox: Sandbox, session_id: str) -> None:
        self._sb = sandbox
        self.session_id = session_id
        self.id = session_id


class Watch:
    """Changes under a watched path; iterate it, and ``close()`` it (or use ``with``) to stop."""

    def __init__(self, events: Generator[dict[str, Any], None, None], path: str) -> None:
        self._events = events
        for ev in events:  # wait for "ready": the watchers are in place
            if ev.get("type") == "ready":
                return
            if ev.get("type") == "error":
                raise make_error(str(ev.get("code") or "FILESYSTEM_ERROR"), f"Cannot watch {path}: {ev.get('error')}", {"path": path})
        raise make_error("STREAM_START_ERROR", f"Cannot watch {path}: the stream ended before it was ready", {"path": path})

    def __iter__(self) -> Iterator[T.WatchEvent]:
        for ev in self._events:
            if ev.get("type") == "error":
                raise make_error(str(ev.get("code") or "FILESYSTEM_ERROR"), f"Cannot keep watching: {ev.get('error')}", {})
            if ev.get("type") != "ready":
                yield T.watch_event(ev)

    def close(self) -> None:
        self._events.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Process:
    """A background process. Fields are a snapshot; ``refresh()`` updates them."""

    def __init__(self, ops: _Ops, info: T.ProcessInfo) -> None:
        self._ops = ops
        self.info = info

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def command(self) -> str:
        return self.info.command

    @property
    def pid(self) -> int | None:
        return self.info.pid

    @property
    def status(self) -> str:
        return self.info.status

    @property
    def exit_code(self) -> int | None:
        return self.info.exit_code

    def __repr__(self) -> str:
        return f"Process(id={self.id!r}, status={self.status!r}, exit_code={self.exit_code!r})"

    def refresh(self) -> T.ProcessInfo:
        p = self._ops.get_process(self.id)
        if p is not None:
            self.info = p.info
        return self.info

    def kill(self, signal: str | None = None) -> None:
        self._ops.kill_process(self.id, signal)

    def logs(self) -> dict[str, str]:
        return self._ops.get_process_logs(self.id)

    def stream_logs(self, *, timeout: float | None = None) -> Stream[T.ProcessLogEvent]:
        return self._ops.stream_process_logs(self.id, timeout=timeout)

    def wait_for_exit(self, timeout: float | None = None) -> int | None:
        """Waits until the process ends; returns its exit code. Raises CommandTimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait_ms = 30_000 if deadline is None else max(1, int((deadline - time.monotonic()) * 1000))
            r = self._ops._json(self._ops._api("GET", f"/process/{W.enc(self.id)}/wait", f"wait for process {self.id}", params={"timeoutMs": str(min(wait_ms, 30_000))}))
            self.info = T.process_info(r["process"])
            if r.get("done") or self.status in W.TERMINAL:
                return self.exit_code
            if deadline is not None and time.monotonic() >= deadline:
                raise make_error("COMMAND_TIMEOUT", f"Cannot wait for process {self.id} to exit: timed out after {timeout} s", {"timeout": timeout}, 408)

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float | None = None) -> LogMatch:
        """Waits for an output line containing ``pattern`` (a substring, or a compiled regex);
        output logged before the call counts. Raises ProcessExitedBeforeReadyError or ProcessReadyTimeoutError."""
        deadline = None if timeout is None else time.monotonic() + timeout
        matcher = _line_matcher(pattern)
        partial = {"stdout": "", "stderr": ""}
        try:
            with self.stream_logs(timeout=timeout) as events:
                for ev in events:
                    if ev.type in partial:
                        lines = (partial[ev.type] + ev.data).split("\n")
                        partial[ev.type] = lines.pop()
                        for line in [*lines, partial[ev.type]]:
                            if line and (m := matcher(line.rstrip("\r"))):
                                return m
                    elif ev.type == "exit":
                        raise make_error("PROCESS_EXITED_BEFORE_READY", f"Cannot wait for {pattern!r}: process {self.id} exited (code {ev.exit_code}) before printing it", {"processId": self.id, "exitCode": ev.exit_code})
                    if deadline is not None and time.monotonic() > deadline:
                        break
        except SandboxError as e:
            if e.code != "COMMAND_TIMEOUT":
                raise
        if deadline is not None and time.monotonic() >= deadline - 0.05:
            raise make_error("PROCESS_READY_TIMEOUT", f"Cannot wait for {pattern!r} in the output of process {self.id}: timed out after {timeout} s", {"processId": self.id, "timeout": timeout}, 408)
        raise make_error("PROCESS_EXITED_BEFORE_READY", f"Cannot wait for {pattern!r}: the output of process {self.id} ended without it", {"processId": self.id})

    def wait_for_port(self, port: int, *, mode: str = "http", path: str = "/", status: tuple[int, int] = (200, 399), timeout: float = 60.0, interval: float = 0.2) -> None:
        """Waits until ``port`` answers inside the sandbox (an HTTP status in ``status``, or a TCP connect)."""
        W.check_port(port)
        cmd = W.port_check_command(port, mode, path)
        deadline = time.monotonic() + timeout
        while True:
            r = self._ops.exec(cmd, timeout=5)
            if (r.exit_code == 0) if mode == "tcp" else _status_ok(r.stdout, status):
                return
            self.refresh()
            if self.status in W.TERMINAL:
                raise make_error("PROCESS_EXITED_BEFORE_READY", f"Cannot wait for port {port}: the process exited (code {self.exit_code}) before the port was ready", {"port": port, "exitCode": self.exit_code})
            if time.monotonic() + interval > deadline:
                raise make_error("PROCESS_READY_TIMEOUT", f"Cannot wait for port {port}: not ready after {timeout} s", {"port": port, "timeout": timeout}, 408)
            time.sleep(interval)


def _status_ok(out: str, want: tuple[int, int]) -> bool:
    try:
        code = int(out.strip())
    except ValueError:
        return False
    return want[0] <= code <= want[1]


def _line_matcher(pattern: str | re.Pattern[str]) -> Callable[[str], LogMatch | None]:
    if isinstance(pattern, str):
        text = pattern
        return lambda line: LogMatch(line) if text in line else None
    regex = pattern
    return lambda line: LogMatch(line, m) if (m := regex.search(line)) else None


__all__ = ["Atoll", "Sandbox", "Session", "Process", "Stream", "Watch", "LogMatch"]
