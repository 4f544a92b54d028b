"""The sync client against a real control plane and real sandboxes."""

from __future__ import annotations

import os
import re
import time

import pytest

import atoll
from conftest import decode_png, fetch_preview, new_id

PLOT = """
import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
ax.plot([1, 2, 3], [3, 1, 2], label="y")
ax.set_title("chart")
plt.show()
"""


def test_installed_from_the_wheel() -> None:
    prefix = os.environ.get("ATOLL_EXPECT_PREFIX")
    if prefix:  # the Node wrapper checks we import the installed wheel, not the source tree
        assert atoll.__file__.startswith(prefix), atoll.__file__


def test_sandbox_end_to_end(client: atoll.Atoll) -> None:
    sid = new_id("py-sync")
    with client.sandbox(sid, destroy_on_exit=True) as sb:
        assert sb.info["id"] == sid

        # buffered exec with env/cwd, and a timeout that is honoured
        r = sb.exec("echo $GREETING; pwd", env={"GREETING": "hi"}, cwd="/tmp")
        assert (r.exit_code, r.stdout) == (0, "hi\n/tmp\n")
        assert sb.exec("exit 3").exit_code == 3
        t = sb.exec("sleep 5", timeout=0.5)
        assert t.timed_out and t.exit_code != 0

        # streamed output arrives line by line, as it is produced
        seen: list[tuple[float, str]] = []
        with sb.exec_stream("for i in 1 2 3; do echo line$i; sleep 0.4; done") as events:
            for ev in events:
                if ev.type == "stdout":
                    seen.append((time.monotonic(), ev.data))
                elif ev.type == "complete":
                    assert ev.exit_code == 0
        assert [d for _, d in seen] == ["line1\n", "line2\n", "line3\n"]
        assert seen[2][0] - seen[0][0] > 0.5, "lines were buffered, not streamed"
        chunks: list[str] = []
        assert sb.exec("echo a; echo b >&2", on_output=lambda s, d: chunks.append(s + ":" + d)).stdout == "a\n"
        assert sorted(chunks) == ["stderr:b\n", "stdout:a\n"]

        # text and binary files, streamed upload and download, list, exists
        blob = bytes(range(256)) * 1000
        sb.write_file("/workspace/blob.bin", blob)
        assert sb.read_bytes("/workspace/blob.bin") == blob
        sb.write_file("/workspace/a.txt", "héllo\n")
        assert sb.read_file("/workspace/a.txt") == "héllo\n"
        assert sb.upload_file("/workspace/up.bin", iter([b"x" * 70000, b"y" * 5])) == 70005
        assert b"".join(sb.download_file("/workspace/up.bin")) == b"x" * 70000 + b"y" * 5
        names = {f.name: f for f in sb.list_files("/workspace")}
        assert names["blob.bin"].size == len(blob) and names["blob.bin"].type == "file"
        assert sb.exists("/workspace/a.txt") and not sb.exists("/workspace/nope")
        sb.mkdir("/workspace/d/e", recursive=True)
        sb.rename_file("/workspace/a.txt", "/workspace/d/b.txt")
        assert sb.read_file("/workspace/d/b.txt") == "héllo\n"
        sb.delete_file("/workspace/d/b.txt")

        # watch yields changes made after it returned
        with sb.watch("/workspace/d") as w:
            sb.write_file("/workspace/d/new.txt", "x")
            change = next(iter(w))
            assert change.type in ("create", "modify") and change.path.endswith("new.txt")

        # sessions keep their own cwd and env
        s = sb.create_session(id="build", cwd="/tmp", env={"STAGE": "1"})
        s.exec("cd / && export STAGE=2")
        assert s.exec("pwd; echo $STAGE").stdout == "/\n2\n"
        assert sb.exec("echo ${STAGE:-unset}").stdout == "unset\n"
        sb.set_env_vars({"TOKEN": "a'b\"c $x"})
        assert sb.exec("printf %s \"$TOKEN\"").stdout == "a'b\"c $x"
        sb.delete_session("build")

        # code interpreter: pandas HTML table, a matplotlib PNG that decodes, JSON, errors
        ctx = sb.create_code_context()
        res = sb.run_code("import pandas as pd\ndf = pd.DataFrame({'city': ['Oslo', 'Lima'], 'temp': [3, 19]})\ndf", context=ctx)
        assert res.error is None and res.results, res
        assert "<table" in (res.results[0].html or "") and "Lima" in (res.results[0].html or "")
        chart = sb.run_code(PLOT, context=ctx)
        pngs = [r.png for r in chart.results if r.png]
        assert pngs, chart
        w_, h_ = decode_png(pngs[0])
        assert 0 < w_ <= 400 and 0 < h_ <= 300
        out: list[str] = []
        err = sb.run_code("print('before')\n1/0", context=ctx, on_stdout=out.append)
        assert out == ["before\n"] and err.error is not None and err.error.name == "ZeroDivisionError"
        assert sb.run_code("21 * 2", context=ctx).text == "42"
        assert sb.run_code("[1, 2].map(x => x * 2)", language="javascript").results[0].json == [2, 4]
        sb.delete_code_context(ctx)
        with pytest.raises(atoll.ContextNotFoundError):
            sb.run_code("1", context=ctx)

        # a server, readiness waits, its preview URL
        sb.write_file("/workspace/site/index.html", "<h1>from python</h1>")
        proc = sb.start_process("python3 -u -m http.server 8080 --directory /workspace/site", process_id="web")
        proc.wait_for_port(8080, timeout=30)
        assert proc.wait_for_log(re.compile(r"Serving HTTP on .* port (\d+)"), timeout=10).match is not None
        assert [p.id for p in sb.list_processes()] == ["web"]
        port = sb.expose_port(8080, name="web")
        assert re.match(rf"^http://8080-{sid}-[a-z0-9_-]{{16}}\.localhost:\d+/$", port.url), port.url
        page = fetch_preview(port.url)
        assert page.status_code == 200 and "from python" in page.text
        assert [p.port for p in sb.get_exposed_ports()] == [8080]
        proc.kill()
        assert proc.wait_for_exit(timeout=10) is not None or proc.status in ("killed", "completed", "failed")
        sb.unexpose_port(8080)

        # lifecycle
        sb.pause()
        with pytest.raises(atoll.SandboxPausedError):
            sb.exec("true")
        sb.resume()
        assert sb.exec("echo back").stdout == "back\n"
        sb.set_keep_alive(True)
        assert sb.info["keepAlive"] is True
        snap = sb.snapshot()
        with client.sandbox(new_id("py-snap"), from_snapshot=snap["name"], destroy_on_exit=True) as copy:
            assert copy.read_bytes("/workspace/blob.bin") == blob
        client.delete_snapshot(snap["name"])
        sb.sleep()
        assert sb.get_info()["status"] == "sleeping"
        assert sb.exec("echo woke").stdout == "woke\n"
    assert sid not in [s["id"] for s in client.list_sandboxes()]


def test_errors_map_to_classes(client: atoll.Atoll, url: str) -> None:
    with pytest.raises(atoll.InvalidSandboxIdError):
        client.sandbox("Not_Valid")
    with atoll.Atoll(url, api_key="atoll_wrong") as bad:
        with pytest.raises(atoll.UnauthorizedError) as e:
            bad.list_sandboxes()
        assert e.value.http_status == 401 and e.value.code == "UNAUTHORIZED"
    with atoll.Atoll("http://127.0.0.1:1", api_key="k") as down:
        with pytest.raises(atoll.SandboxUnavailableError):
            down.health()
    with client.sandbox(new_id("py-err"), destroy_on_exit=True) as sb:
        with pytest.raises(atoll.FileNotFoundError) as fe:
            sb.read_file("/workspace/missing.txt")
        assert isinstance(fe.value, FileNotFoundError)  # the built-in too
        assert fe.value.code == "FILE_NOT_FOUND" and fe.value.http_status == 404
        assert "missing.txt" in str(fe.value.context)
        with pytest.raises(atoll.ProcessNotFoundError):
            sb.kill_process("nope")
        assert sb.get_process("nope") is None
        with pytest.raises(atoll.InvalidPortError):
            sb.expose_port(3000)
        with pytest.raises(atoll.PortNotExposedError):
            sb.unexpose_port(8081)
        with pytest.raises(atoll.SessionNotFoundError):
            sb.get_session("ghost").exec("true")
        with pytest.raises(atoll.ValidationFailedError):
            sb.create_code_context(language="cobol")
        proc = sb.start_process("sh -c 'echo bye; exit 4'")
        with pytest.raises(atoll.ProcessExitedBeforeReadyError):
            proc.wait_for_log("never printed", timeout=20)
        slow = sb.start_process("sleep 30")
        with pytest.raises(atoll.ProcessReadyTimeoutError) as te:
            slow.wait_for_log("never", timeout=1)
        assert isinstance(te.value, TimeoutError)
        with pytest.raises(atoll.SandboxError) as any_err:
            sb.delete_file("/workspace")
        assert any_err.value.code in atoll.BY_CODE
