"""uvicorn's server, with Parley's streams ended first when a stop begins (contract 11), and the
one way it is configured: HTTP read by ``HttpConnection``, WebSockets and lifespan over ASGI."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from parley.api.app import ParleyASGI
from parley.api.connection import HttpConnection


def http_config(
    app: ParleyASGI,
    host: str,
    port: int,
    *,
    access_log: bool,
    log_level: str,
    loop: str = "auto",
    log_config: dict[str, Any] | None = None,
    graceful_stop_seconds: int | None = None,
) -> uvicorn.Config:
    """uvicorn's configuration for ``app``, as ``parley serve`` runs it and the tests serve it."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop=loop,
        http=HttpConnection,  # type: ignore[arg-type]  # a protocol class, as uvicorn's own are
        ws="websockets-sansio",
        access_log=access_log,  # off by default: it formats and writes a line on every request
        server_header=False,  # no need to tell every client which server software answers
        log_level=log_level,
        log_config=log_config,
        lifespan="on",
        timeout_graceful_shutdown=graceful_stop_seconds,
    )


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
