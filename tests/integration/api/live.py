"""A Parley application served in the test's own event loop by the production HTTP path:
uvicorn with ``HttpConnection`` on a real socket of 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from parley.api.app import ParleyASGI
from parley.api.server import DrainingServer, http_config


@asynccontextmanager
async def serving(app: ParleyASGI) -> AsyncIterator[str]:
    """The base URL of ``app`` served as ``parley serve`` serves it, until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    config = http_config(app, host, port, access_log=False, log_level="warning")
    server = DrainingServer(config, lambda: None)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                await task  # its error, if it failed to start
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
