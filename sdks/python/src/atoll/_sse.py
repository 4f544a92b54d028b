"""Server-Sent Events: every Atoll stream is ``data: {json}`` events separated by blank lines.
One parser, fed lines by the sync and the async transport alike."""

from __future__ import annotations

import json
from typing import Any


class SSEParser:
    """Feed it lines (without their newline); it returns a parsed event when one is complete."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def line(self, line: str) -> dict[str, Any] | None:
        line = line.rstrip("\r\n")  # httpx 0.23 keeps the line ending
        if line == "":
            return self.flush()
        if line.startswith(":"):
            return None  # comment / keep-alive
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> dict[str, Any] | None:
        if not self._data:
            return None
        text = "\n".join(self._data)
        self._data = []
        if text == "[DONE]":
            return None
        ev = json.loads(text)
        return ev if isinstance(ev, dict) else {"type": "data", "data": ev}
