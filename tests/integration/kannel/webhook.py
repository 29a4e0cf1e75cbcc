"""A minimal HTTP server standing in for Parley's webhook: it records each GET Kannel makes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    query: str


class WebhookRecorder:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait_for(
        self, path: str, matches: Callable[[str], bool] = lambda _: True, *, count: int = 1, timeout: float = 5.0
    ) -> list[str]:
        """The queries of the first ``count`` calls to ``path`` whose query ``matches``."""

        def found() -> list[str]:
            return [call.query for call in self.calls if call.path.endswith(path) and matches(call.query)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(found()) >= count), timeout)
        return found()[:count]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b"\r\n", 1)[0].split(b" ")[1].decode("ascii")
            parts = urlsplit(target)
            async with self._changed:
                self.calls.append(Call(parts.path, parts.query))
                self._changed.notify_all()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()
