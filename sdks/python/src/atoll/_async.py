"""The asynchronous client: ``AsyncAtoll`` → ``AsyncSandbox`` (and ``AsyncSession``),
``AsyncProcess``, ``AsyncStream``, ``AsyncWatch``. The same methods as the sync client
(``_sync``), awaited; built on ``httpx.AsyncClient``. Timeouts are in seconds.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import IO, Any, Generic, TypeVar, cast

import httpx

from . import _types as T
from . import _wire as W
from ._errors import SandboxError, error_from_body, make_error
from ._sse import SSEParser
from ._sync import _NO_READ_TIMEOUT, DEFAULT_URL, LogMatch, _collect, _line_matcher, _safe_json, _status_ok

E = TypeVar("E")


class AsyncStream(Generic[E]):
    """An async iterator over a streamed answer. Use it in ``async with`` (or ``await close()``)
    to end the request early; iterating to the end closes it too."""

    def __init__(self, gen: AsyncGenerator[E, None]) -> None:
        self._gen = gen

    def __aiter__(self) -> AsyncIterator[E]:
        return self._gen

    async def __anext__(self) -> E:
        return await self._gen.__anext__()

    async def close(self) -> None:
        await self._gen.aclose()

    async def __aenter__(self) -> AsyncStream[E]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _AsyncTransport:
    def __init__(self, url: str, api_key: str | None, timeout: httpx.Timeout, http: httpx.AsyncClient | None) -> None:
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self.url = url.rstrip("/")
        self.http = http or httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)

    async def send(self, req: W.Req, content: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
        try:
            res = await self.http.request(req.method, req.path, json=req.json, params=req.params or None, content=content, headers=headers)
        except httpx.TransportError as e:
            raise make_error("SANDBOX_UNAVAILABLE", f"Cannot {req.what}: no answer from {self.url} ({e})", {"url": self.url}, 503) from e
        if res.status_code >= 400:
            raise error_from_body(_safe_json(res), res.status_code, req.what)
        return res

    async def json(self, req: W.Req) -> Any:
        res = await self.send(req)
        return res.json() if res.content else {}

    @asynccontextmanager
    async def open(self, req: W.Req, timeout: float | None = None) -> AsyncIterator[httpx.Response]:
        extra: dict[str, Any] = {"timeout": httpx.Timeout(30.0, read=timeout)} if timeout is not None else {}
        try:
            async with self.http.stream(req.method, req.path, json=req.json, params=req.params or None, headers={"accept": "text/event-stream"}, **extra) as res:
                if res.status_code >= 400:
                    await res.aread()
                    raise error_from_body(_safe_json(res), res.status_code, req.what)
                yield res
        except httpx.ReadTimeout as e:
            raise make_error("COMMAND_TIMEOUT", f"Cannot {req.what}: timed out after {timeout} s", {"timeout": timeout}, 408) from e
        except httpx.TransportError as e:
            raise make_error("SANDBOX_UNAVAILABLE", f"Cannot {req.what}: no answer from {self.url} ({e})", {"url": self.url}, 503) from e

    async def events(self, req: W.Req, timeout: float | None = None) -> AsyncGenerator[dict[str, Any], None]:
        async with self.open(req, timeout) as res:
            parser = SSEParser()
            async for line in res.aiter_lines():
                ev = parser.line(line)
                if ev is not None:
                    yield ev
            last = parser.flush()
            if last is not None:
                yield last


class AsyncAtoll:
    """An asyncio connection to an Atoll control plane.

    >>> async with AsyncAtoll("http://127.0.0.1:8787", api_key="atoll_...") as client:
    ...     sb = await client.sandbox("my-box")
    ...     print((await sb.exec("echo hi")).stdout)
    """

    def __init__(self, url: str = DEFAULT_URL, api_key: str | None = None, *, timeout: httpx.Timeout = _NO_READ_TIMEOUT, http: httpx.AsyncClient | None = None) -> None:
        if not re.match(r"^https?://", url or "", re.I):
            raise make_error("VALIDATION_FAILED", f"Cannot create client: url must be an http(s) URL, got {url!r}", {"url": url}, 400)
        self._t = _AsyncTransport(url, api_key, timeout, http)
        self.url = self._t.url

    async def sandbox(
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
    ) -> AsyncSandbox:
        """Gets the sandbox ``sandbox_id``, creating it when it does not exist (options apply then)."""
        body = W.create_body(env_vars, sleep_after, keep_alive, template, from_snapshot, limits)
        sb = AsyncSandbox(self._t, W.check_id(sandbox_id), body, destroy_on_exit)
        await sb._ensure()
        return sb

    async def health(self) -> dict[str, Any]:
        return dict(await self._t.json(W.Req("GET", "/v1/health", "check health")))

    async def list_sandboxes(self) -> list[dict[str, Any]]:
        return list((await self._t.json(W.Req("GET", "/v1/sandboxes", "list sandboxes")))["sandboxes"])

    async def list_snapshots(self) -> list[dict[str, Any]]:
        return list((await self._t.json(W.Req("GET", "/v1/snapshots", "list snapshots")))["snapshots"])

    async def delete_snapshot(self, name: str) -> None:
        await self._t.json(W.Req("DELETE", f"/v1/snapshots/{W.enc(name)}", f"delete snapshot {name}"))

    async def close(self) -> None:
        await self._t.http.aclose()

    async def __aenter__(self) -> AsyncAtoll:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _AsyncOps:
    """Everything that runs in a sandbox's shell session: commands, processes, files, code."""

    _sb: AsyncSandbox
    session_id: str | None

    async def _json(self, req: W.Req) -> Any:
        return await self._sb._call(lambda: self._sb._t.json(req))

    def _api(self, method: str, route: str, what: str, json: Any = None, params: dict[str, str] | None = None) -> W.Req:
        return W.Req(method, f"{self._sb._base}/api{route}", what, json=json, params=params or {})

    # ---- commands ----

    async def exec(
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
            r = await self._json(self._api("POST", "/execute", "run command", W.exec_body(command, self.session_id, timeout, env, cwd)))
            return T.exec_result(r, command, self.session_id)
        out: dict[str, list[str]] = {"stdout": [], "stderr": []}
        started = time.monotonic()
        async with self.exec_stream(command, timeout=timeout, env=env, cwd=cwd) as events:
            async for ev in events:
                if ev.type in out:
                    out[ev.type].append(ev.data)
                    on_output(ev.type, ev.data)
                elif ev.type == "complete":
                    code = ev.exit_code if ev.exit_code is not None else -1
                    return T.ExecResult(code == 0, code, "".join(out["stdout"]), "".join(out["stderr"]), command, (time.monotonic() - started) * 1000, ev.timed_out, self.session_id)
        raise make_error("COMMAND_EXECUTION_ERROR", "Cannot run command: the output stream ended before the command completed", {"command": command})

    def exec_stream(self, command: str, *, timeout: float | None = None, env: dict[str, str] | None = None, cwd: str | None = None) -> AsyncStream[T.ExecEvent]:
        """Runs a command and yields its events as they happen. Closing the stream early kills the command."""
        req = self._api("POST", "/execute/stream", "stream command", W.exec_body(command, self.session_id, timeout, env, cwd))

        async def gen() -> AsyncGenerator[T.ExecEvent, None]:
            await self._sb._ensure()
            async for raw in self._sb._t.events(req):
                ev = T.exec_event(raw)
                if ev.type == "error":
                    raise make_error(str(raw.get("code") or "COMMAND_EXECUTION_ERROR"), f"Cannot run command: {ev.data}", {"command": command})
                yield ev

        return AsyncStream(gen())

    # ---- background processes ----

    async def start_process(
        self,
        command: str,
        *,
        process_id: str | None = None,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        auto_cleanup: bool | None = None,
    ) -> AsyncProcess:
        body = W.exec_body(command, self.session_id, timeout, env, cwd)
        if process_id:
            body["processId"] = process_id
        if auto_cleanup is not None:
            body["autoCleanup"] = auto_cleanup
        r = await self._json(self._api("POST", "/process/start", "start process", body))
        return AsyncProcess(self, T.ProcessInfo(id=r["processId"], command=r.get("command", command), status="running", pid=r.get("pid"), session_id=self.session_id))

    async def list_processes(self) -> list[AsyncProcess]:
        r = await self._json(self._api("GET", "/process/list", "list processes"))
        return [AsyncProcess(self, T.process_info(p)) for p in r["processes"]]

    async def get_process(self, process_id: str) -> AsyncProcess | None:
        try:
            r = await self._json(self._api("GET", f"/process/{W.enc(process_id)}", f"get process {process_id}"))
        except SandboxError as e:
            if e.code == "PROCESS_NOT_FOUND":
                return None
            raise
        return AsyncProcess(self, T.process_info(r["process"]))

    async def kill_process(self, process_id: str, signal: str | None = None) -> None:
        await self._json(self._api("DELETE", f"/process/{W.enc(process_id)}", f"kill process {process_id}", params={"signal": signal} if signal else None))

    async def kill_all_processes(self) -> int:
        r = await self._json(self._api("DELETE", "/process/kill-all", "kill all processes"))
        return int(r.get("cleanedCount") or r.get("killedCount") or 0)

    async def get_process_logs(self, process_id: str) -> dict[str, str]:
        r = await self._json(self._api("GET", f"/process/{W.enc(process_id)}/logs", f"get logs of process {process_id}"))
        return {"stdout": str(r.get("stdout", "")), "stderr": str(r.get("stderr", ""))}

    def stream_process_logs(self, process_id: str, *, timeout: float | None = None) -> AsyncStream[T.ProcessLogEvent]:
        req = self._api("GET", f"/process/{W.enc(process_id)}/stream", f"stream logs of process {process_id}")

        async def gen() -> AsyncGenerator[T.ProcessLogEvent, None]:
            await self._sb._ensure()
            async for raw in self._sb._t.events(req, timeout):
                yield T.process_log_event(raw)

        return AsyncStream(gen())

    # ---- files ----

    async def write_file(self, path: str, content: str | bytes) -> None:
        if isinstance(content, (bytes, bytearray, memoryview)) or len(content) > (4 << 20):
            await self.upload_file(path, content.encode() if isinstance(content, str) else bytes(content))
            return
        await self._json(self._api("POST", "/write", f"write {path}", W.with_session({"path": path, "content": content}, self.session_id)))

    async def read_bytes(self, path: str) -> bytes:
        req = self._api("GET", "/files/raw", f"read {path}", params=W.file_query(path, self.session_id))
        return bytes((await self._sb._call(lambda: self._sb._t.send(req))).content)

    async def read_file(self, path: str, encoding: str = "utf-8") -> str:
        return (await self.read_bytes(path)).decode(encoding)

    async def upload_file(self, path: str, data: bytes | Iterable[bytes] | AsyncIterable[bytes] | IO[bytes]) -> int:
        """Streams bytes (bytes, a sync or async iterable of chunks, or a binary file) into ``path``."""
        req = self._api("PUT", "/files/raw", f"upload {path}", params=W.file_query(path, self.session_id))
        body: Any = data if isinstance(data, (bytes, bytearray)) or hasattr(data, "__aiter__") else _aiter_chunks(cast(Iterable[bytes] | IO[bytes], data))
        await self._sb._ensure()
        res = await self._sb._t.send(req, content=body, headers={"content-type": "application/octet-stream"})
        return int(res.json().get("bytesWritten", 0))

    def download_file(self, path: str, chunk_size: int = 1 << 16) -> AsyncStream[bytes]:
        req = self._api("GET", "/files/raw", f"download {path}", params=W.file_query(path, self.session_id))

        async def gen() -> AsyncGenerator[bytes, None]:
            await self._sb._ensure()
            async with self._sb._t.open(req) as res:
                async for chunk in res.aiter_bytes(chunk_size):
                    yield chunk

        return AsyncStream(gen())

    async def mkdir(self, path: str, *, recursive: bool = False) -> None:
        await self._json(self._api("POST", "/mkdir", f"create directory {path}", W.with_session({"path": path, "recursive": recursive}, self.session_id)))

    async def delete_file(self, path: str) -> None:
        await self._json(self._api("POST", "/delete", f"delete {path}", W.with_session({"path": path}, self.session_id)))

    async def rename_file(self, old_path: str, new_path: str) -> None:
        await self._json(self._api("POST", "/rename", f"rename {old_path}", W.with_session({"oldPath": old_path, "newPath": new_path}, self.session_id)))

    async def move_file(self, source_path: str, destination_path: str) -> None:
        await self._json(self._api("POST", "/move", f"move {source_path}", W.with_session({"sourcePath": source_path, "destinationPath": destination_path}, self.session_id)))

    async def list_files(self, path: str, *, recursive: bool = False, include_hidden: bool = False) -> list[T.FileInfo]:
        body = W.with_session({"path": path, "options": {"recursive": recursive, "includeHidden": include_hidden}}, self.session_id)
        return [T.file_info(f) for f in (await self._json(self._api("POST", "/list-files", f"list {path}", body)))["files"]]

    async def exists(self, path: str) -> bool:
        return bool((await self._json(self._api("POST", "/exists", f"check {path}", W.with_session({"path": path}, self.session_id)))).get("exists"))

    async def watch(self, path: str, *, recursive: bool = False, include_hidden: bool = False) -> AsyncWatch:
        """Watches ``path``; returns once the watchers are in place. ``async for`` the handle for changes."""
        body = W.with_session({"path": path, "recursive": recursive, "includeHidden": include_hidden}, self.session_id)
        await self._sb._ensure()
        w = AsyncWatch(self._sb._t.events(self._api("POST", "/watch", f"watch {path}", body)), path)
        await w._ready()
        return w

    async def git_checkout(self, repo_url: str, *, branch: str | None = None, target_dir: str | None = None, depth: int | None = None) -> dict[str, Any]:
        name = re.sub(r"\.git$", "", re.split(r"[/:]", repo_url.rstrip("/"))[-1]) or "repo"
        body: dict[str, Any] = {"repoUrl": repo_url, "targetDir": target_dir or f"/workspace/{name}"}
        if branch:
            body["branch"] = branch
        if depth is not None:
            body["depth"] = depth
        return dict(await self._json(self._api("POST", "/git/checkout", f"check out {repo_url}", W.with_session(body, self.session_id))))

    async def set_env_vars(self, env_vars: dict[str, str | None]) -> None:
        W.check_env(env_vars)
        await self._json(self._api("POST", "/env", "set environment variables", W.with_session({"envVars": env_vars}, self.session_id)))

    # ---- code interpreter ----

    async def create_code_context(self, *, language: str = "python", cwd: str = "/workspace", env_vars: dict[str, str] | None = None, timeout: float | None = None) -> T.CodeContext:
        return T.code_context(await self._json(self._api("POST", "/contexts", "create code context", W.context_body(language, cwd, env_vars, timeout))))

    async def list_code_contexts(self) -> list[T.CodeContext]:
        return [T.code_context(c) for c in (await self._json(self._api("GET", "/contexts", "list code contexts")))["contexts"]]

    async def delete_code_context(self, context: T.CodeContext | str) -> None:
        cid = context if isinstance(context, str) else context.id
        await self._json(self._api("DELETE", f"/contexts/{W.enc(cid)}", f"delete code context {cid}"))

    def run_code_stream(self, code: str, *, context: T.CodeContext | None = None, language: str | None = None, timeout: float | None = None, env_vars: dict[str, str] | None = None) -> AsyncStream[T.CodeEvent]:
        req = self._api("POST", "/execute/code", "run code", W.code_body(code, context.id if context else None, language, timeout, env_vars))

        async def gen() -> AsyncGenerator[T.CodeEvent, None]:
            await self._sb._ensure()
            async for raw in self._sb._t.events(req):
                if raw.get("type") == "error" and raw.get("code"):
                    raise make_error(str(raw["code"]), f"Cannot run code: {raw.get('evalue') or raw.get('ename')}", {"ename": raw.get("ename")})
                yield T.code_event(raw)

        return AsyncStream(gen())

    async def run_code(
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
        out = T.Execution(code=code)
        async with self.run_code_stream(code, context=context, language=language, timeout=timeout, env_vars=env_vars) as events:
            async for ev in events:
                _collect(out, ev)
                if ev.type == "stdout" and on_stdout:
                    on_stdout(ev.text)
                elif ev.type == "stderr" and on_stderr:
                    on_stderr(ev.text)
                elif ev.result is not None and on_result:
                    on_result(ev.result)
        return out


async def _aiter_chunks(data: Iterable[bytes] | IO[bytes], size: int = 1 << 20) -> AsyncIterator[bytes]:
    if hasattr(data, "read"):
        f = cast(IO[bytes], data)
        while chunk := await asyncio.to_thread(f.read, size):
            yield chunk
    else:
        for chunk in data:
            yield chunk


class AsyncSandbox(_AsyncOps):
    """A sandbox: everything of a session (its default session) plus ports, sessions and lifecycle."""

    def __init__(self, t: _AsyncTransport, sandbox_id: str, create: dict[str, Any], destroy_on_exit: bool) -> None:
        self._t = t
        self._sb = self
        self.id = sandbox_id
        self.session_id = None
        self._base = f"/v1/sandboxes/{sandbox_id}"
        self._create = create
        self._ensured = False
        self._lock = asyncio.Lock()
        self.destroy_on_exit = destroy_on_exit
        self.info: dict[str, Any] = {}

    async def _ensure(self) -> None:
        async with self._lock:
            if not self._ensured:
                self.info = dict(await self._t.json(W.Req("PUT", self._base, f"create sandbox {self.id}", json=self._create)))
                self._ensured = True

    async def _call(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        await self._ensure()
        try:
            return await fn()
        except SandboxError as e:
            if e.code != "SANDBOX_NOT_FOUND":
                raise
            self._ensured = False
            await self._ensure()
            return await fn()

    async def _v1(self, method: str, route: str, what: str, json: Any = None) -> Any:
        return await self._call(lambda: self._t.json(W.Req(method, self._base + route, what, json=json)))

    async def create_session(self, *, id: str | None = None, env: dict[str, str] | None = None, cwd: str | None = None) -> AsyncSession:
        body: dict[str, Any] = {k: v for k, v in {"id": id, "env": env, "cwd": cwd}.items() if v}
        r = await self._json(self._api("POST", "/session/create", "create session", body))
        return AsyncSession(self, str(r.get("sessionId") or r.get("id") or id))

    def get_session(self, session_id: str) -> AsyncSession:
        return AsyncSession(self, session_id)

    async def delete_session(self, session_id: str) -> None:
        await self._json(self._api("POST", "/session/delete", f"delete session {session_id}", {"sessionId": session_id}))

    async def expose_port(self, port: int, *, name: str | None = None, hostname: str | None = None) -> T.ExposedPort:
        W.check_port(port)
        body: dict[str, Any] = {"port": port, **({"name": name} if name else {}), **({"hostname": hostname} if hostname else {})}
        r = await self._v1("POST", "/ports", f"expose port {port}", body)
        return T.ExposedPort(port=int(r.get("port", port)), url=str(r["url"]), name=r.get("name", name), status=r.get("status"))

    async def unexpose_port(self, port: int) -> None:
        await self._v1("DELETE", f"/ports/{port}", f"unexpose port {port}")

    async def get_exposed_ports(self) -> list[T.ExposedPort]:
        return [T.exposed_port(p) for p in (await self._v1("GET", "/ports", "list exposed ports"))["ports"]]

    async def get_info(self) -> dict[str, Any]:
        self.info = dict(await self._v1("GET", "", f"get sandbox {self.id}"))
        return self.info

    async def set_keep_alive(self, keep_alive: bool) -> None:
        self.info = dict(await self._v1("PATCH", "", f"update sandbox {self.id}", {"keepAlive": keep_alive}))

    async def set_sleep_after(self, sleep_after: str | int) -> None:
        self.info = dict(await self._v1("PATCH", "", f"update sandbox {self.id}", {"sleepAfter": sleep_after}))

    async def sleep(self) -> None:
        self.info = dict(await self._v1("POST", "/sleep", f"sleep sandbox {self.id}"))

    async def pause(self) -> None:
        self.info = dict(await self._v1("POST", "/pause", f"pause sandbox {self.id}"))

    async def resume(self) -> None:
        self.info = dict(await self._v1("POST", "/resume", f"resume sandbox {self.id}"))

    async def snapshot(self, name: str | None = None) -> dict[str, Any]:
        return dict(await self._v1("POST", "/snapshots", f"snapshot sandbox {self.id}", {"name": name} if name else {}))

    async def destroy(self) -> None:
        try:
            await self._t.json(W.Req("DELETE", self._base, f"destroy sandbox {self.id}"))
        except SandboxError as e:
            if e.code != "SANDBOX_NOT_FOUND":
                raise
        finally:
            self._ensured = False

    async def __aenter__(self) -> AsyncSandbox:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self.destroy_on_exit:
            await self.destroy()


class AsyncSession(_AsyncOps):
    """A shell session of a sandbox: the sandbox's commands, processes, files and code, bound to it."""

    def __init__(self, sandbox: AsyncSandbox, session_id: str) -> None:
        self._sb = sandbox
        self.session_id = session_id
        self.id = session_id


class AsyncWatch:
    """Changes under a watched path; ``async for`` it, and ``await close()`` it (or ``async with``) to stop."""

    def __init__(self, events: AsyncGenerator[dict[str, Any], None], path: str) -> None:
        self._events = events
        self._path = path

    async def _ready(self) -> None:
        async for ev in self._events:
            if ev.get("type") == "ready":
                return
            if ev.get("type") == "error":
                raise make_error(str(ev.get("code") or "FILESYSTEM_ERROR"), f"Cannot watch {self._path}: {ev.get('error')}", {"path": self._path})
        raise make_error("STREAM_START_ERROR", f"Cannot watch {self._path}: the stream ended before it was ready", {"path": self._path})

    async def __aiter__(self) -> AsyncIterator[T.WatchEvent]:
        async for ev in self._events:
            if ev.get("type") == "error":
                raise make_error(str(ev.get("code") or "FILESYSTEM_ERROR"), f"Cannot keep watching: {ev.get('error')}", {})
            if ev.get("type") != "ready":
                yield T.watch_event(ev)

    async def close(self) -> None:
        await self._events.aclose()

    async def __aenter__(self) -> AsyncWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncProcess:
    """A background process. Fields are a snapshot; ``await refresh()`` updates them."""

    def __init__(self, ops: _AsyncOps, info: T.ProcessInfo) -> None:
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
        return f"AsyncProcess(id={self.id!r}, status={self.status!r}, exit_code={self.exit_code!r})"

    async def refresh(self) -> T.ProcessInfo:
        p = await self._ops.get_process(self.id)
        if p is not None:
            self.info = p.info
        return self.info

    async def kill(self, signal: str | None = None) -> None:
        await self._ops.kill_process(self.id, signal)

    async def logs(self) -> dict[str, str]:
        return await self._ops.get_process_logs(self.id)

    def stream_logs(self, *, timeout: float | None = None) -> AsyncStream[T.ProcessLogEvent]:
        return self._ops.stream_process_logs(self.id, timeout=timeout)

    async def wait_for_exit(self, timeout: float | None = None) -> int | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait_ms = 30_000 if deadline is None else max(1, int((deadline - time.monotonic()) * 1000))
            r = await self._ops._json(self._ops._api("GET", f"/process/{W.enc(self.id)}/wait", f"wait for process {self.id}", params={"timeoutMs": str(min(wait_ms, 30_000))}))
            self.info = T.process_info(r["process"])
            if r.get("done") or self.status in W.TERMINAL:
                return self.exit_code
            if deadline is not None and time.monotonic() >= deadline:
                raise make_error("COMMAND_TIMEOUT", f"Cannot wait for process {self.id} to exit: timed out after {timeout} s", {"timeout": timeout}, 408)

    async def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float | None = None) -> LogMatch:
        """Waits for an output line containing ``pattern``; raises ProcessExitedBeforeReadyError or ProcessReadyTimeoutError."""
        try:
            return await asyncio.wait_for(self._scan_log(pattern), timeout)
        except asyncio.TimeoutError:
            raise make_error("PROCESS_READY_TIMEOUT", f"Cannot wait for {pattern!r} in the output of process {self.id}: timed out after {timeout} s", {"processId": self.id, "timeout": timeout}, 408) from None

    async def _scan_log(self, pattern: str | re.Pattern[str]) -> LogMatch:
        matcher = _line_matcher(pattern)
        partial = {"stdout": "", "stderr": ""}
        async with self.stream_logs() as events:
            async for ev in events:
                if ev.type in partial:
                    lines = (partial[ev.type] + ev.data).split("\n")
                    partial[ev.type] = lines.pop()
                    for line in [*lines, partial[ev.type]]:
                        if line and (m := matcher(line.rstrip("\r"))):
                            return m
                elif ev.type == "exit":
                    raise make_error("PROCESS_EXITED_BEFORE_READY", f"Cannot wait for {pattern!r}: process {self.id} exited (code {ev.exit_code}) before printing it", {"processId": self.id, "exitCode": ev.exit_code})
        raise make_error("PROCESS_EXITED_BEFORE_READY", f"Cannot wait for {pattern!r}: the output of process {self.id} ended without it", {"processId": self.id})

    async def wait_for_port(self, port: int, *, mode: str = "http", path: str = "/", status: tuple[int, int] = (200, 399), timeout: float = 60.0, interval: float = 0.2) -> None:
        W.check_port(port)
        cmd = W.port_check_command(port, mode, path)
        deadline = time.monotonic() + timeout
        while True:
            r = await self._ops.exec(cmd, timeout=5)
            if (r.exit_code == 0) if mode == "tcp" else _status_ok(r.stdout, status):
                return
            await self.refresh()
            if self.status in W.TERMINAL:
                raise make_error("PROCESS_EXITED_BEFORE_READY", f"Cannot wait for port {port}: the process exited (code {self.exit_code}) before the port was ready", {"port": port, "exitCode": self.exit_code})
            if time.monotonic() + interval > deadline:
                raise make_error("PROCESS_READY_TIMEOUT", f"Cannot wait for port {port}: not ready after {timeout} s", {"port": port, "timeout": timeout}, 408)
            await asyncio.sleep(interval)


__all__ = ["AsyncAtoll", "AsyncSandbox", "AsyncSession", "AsyncProcess", "AsyncStream", "AsyncWatch"]
