"""The asyncio client against a real control plane and real sandboxes (driven with asyncio.run,
so no pytest plugin is needed)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import pytest

import atoll
from conftest import decode_png, fetch_preview, new_id


def test_async_end_to_end(url: str, api_key: str) -> None:
    asyncio.run(_end_to_end(url, api_key))


async def _end_to_end(url: str, api_key: str) -> None:
    async with atoll.AsyncAtoll(url, api_key=api_key) as client:
        sid = new_id("py-async")
        async with await client.sandbox(sid, destroy_on_exit=True) as sb:
            # streamed line by line, as produced
            seen: list[tuple[float, str]] = []
            async with sb.exec_stream("for i in 1 2 3; do echo line$i; sleep 0.4; done") as events:
                async for ev in events:
                    if ev.type == "stdout":
                        seen.append((time.monotonic(), ev.data))
            assert [d for _, d in seen] == ["line1\n", "line2\n", "line3\n"]
            assert seen[2][0] - seen[0][0] > 0.5

            # concurrent calls on one sandbox
            rs = await asyncio.gather(*(sb.exec(f"echo {i}") for i in range(5)))
            assert [r.stdout for r in rs] == [f"{i}\n" for i in range(5)]

            # binary file round trip, streamed upload/download
            blob = bytes(range(256)) * 500
            await sb.write_file("/workspace/blob.bin", blob)
            assert await sb.read_bytes("/workspace/blob.bin") == blob

            async def parts() -> AsyncIterator[bytes]:
                yield b"a" * 100000
                yield b"b"

            assert await sb.upload_file("/workspace/up.bin", parts()) == 100001
            got = b""
            async for chunk in sb.download_file("/workspace/up.bin"):
                got += chunk
            assert got == b"a" * 100000 + b"b"

            # watch
            await sb.mkdir("/workspace/w")
            async with await sb.watch("/workspace/w") as w:
                await sb.write_file("/workspace/w/f.txt", "1")
                change = await w.__aiter__().__anext__()
                assert change.path.endswith("f.txt")

            # pandas HTML and a PNG chart that decodes
            res = await sb.run_code("import pandas as pd\npd.DataFrame({'a': [1, 2], 'b': [3, 4]})")
            assert "<table" in (res.results[0].html or "")
            chart = await sb.run_code("import matplotlib.pyplot as plt\nplt.bar(['x', 'y'], [1, 2])\nplt.show()")
            png = next(r.png for r in chart.results if r.png)
            assert decode_png(png)[0] > 0
            assert next(r.chart for r in chart.results if r.chart)["type"] == "bar"

            # server + preview URL
            await sb.write_file("/workspace/site/index.html", "async page")
            proc = await sb.start_process("python3 -m http.server 8090 --directory /workspace/site")
            await proc.wait_for_port(8090, timeout=30)
            port = await sb.expose_port(8090)
            page = await asyncio.to_thread(fetch_preview, port.url)
            assert page.status_code == 200 and page.text == "async page"
            await proc.kill()

            # a session and its error classes
            s = await sb.create_session(cwd="/tmp")
            assert (await s.exec("pwd")).stdout == "/tmp\n"
            with pytest.raises(atoll.FileNotFoundError):
                await s.read_file("/nope")
            with pytest.raises(atoll.CommandError):
                await sb.exec("")
            with pytest.raises(atoll.ProcessReadyTimeoutError):
                p = await sb.start_process("sleep 30")
                await p.wait_for_log(re.compile("never"), timeout=1)
        assert sid not in [x["id"] for x in await client.list_sandboxes()]
        with pytest.raises(atoll.UnauthorizedError):
            async with atoll.AsyncAtoll(url, api_key="wrong") as bad:
                await bad.sandbox("x")
