"""Fixtures for the SDK tests: a real Atoll control plane given by ATOLL_URL / ATOLL_API_KEY
(tests/e2e/python-sdk.test.ts starts one and runs pytest with them)."""

from __future__ import annotations

import os
import secrets
import struct
import zlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

import atoll


@pytest.fixture(scope="session")
def url() -> str:
    u = os.environ.get("ATOLL_URL")
    if not u:
        pytest.fail("ATOLL_URL is not set: run these tests through tests/e2e/python-sdk.test.ts")
    return u


@pytest.fixture(scope="session")
def api_key() -> str:
    return os.environ["ATOLL_API_KEY"]


@pytest.fixture()
def client(url: str, api_key: str) -> Iterator[atoll.Atoll]:
    with atoll.Atoll(url, api_key=api_key) as c:
        yield c


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def fetch_preview(preview_url: str, path: str = "/") -> httpx.Response:
    """GETs a preview URL. ``*.localhost`` names do not resolve on every host, so this connects
    to the address the control plane listens on and sends the preview host name in Host."""
    u = urlsplit(preview_url)
    return httpx.get(f"http://127.0.0.1:{u.port}{path}", headers={"host": u.netloc}, timeout=30)


def decode_png(data: bytes) -> tuple[int, int]:
    """Decodes a PNG far enough to prove it is one: signature, chunk CRCs, IHDR, and the zlib
    stream of IDAT inflating to exactly the scanlines the header announces. Returns (width, height)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
        if kind == b"IEND":
            break
    assert ihdr is not None, "no IHDR"
    width, height, depth, color = ihdr[0], ihdr[1], ihdr[2], ihdr[3]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    row = 1 + (width * channels * depth + 7) // 8
    assert len(zlib.decompress(idat)) == row * height, "pixel data does not match the header"
    return width, height
