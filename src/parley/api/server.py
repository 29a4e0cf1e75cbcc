"""uvicorn's server, with Parley's streams ended first when a stop begins (contract 11)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn


class DrainingServer(uvicorn.Server):
    """On SIGTERM, before uvicorn asks open connections to close, ``drain`` ends the streams:
    long polls answer with what they hold, SSE streams end after ``retry: 1000`` and WebSockets
    close with 1012. Without it an open stream held the stop for its whole grace period and was
    then cut (``Cancel 1 running task(s)``)."""

    def __init__(self, config: uvicorn.Config, drain: Callable[[], None]) -> None:
        super().__init__(config)
        self._drain = drain

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._drain()
        await super().shutdown(sockets)
