"""What the blocking and the asyncio event streams share: timeouts, headers, error mapping."""

from __future__ import annotations

from typing import Literal

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus

from parley_client._exceptions import APIError, TransportError, error_from_close, error_from_response

# The server sends an SSE keep-alive every 15 s: three missed ones mean the connection is dead.
SSE_TIMEOUT = httpx.Timeout(10.0, read=45.0)
WS_OPEN_TIMEOUT = 10.0
RECOVERY_TIMEOUT = httpx.Timeout(10.0)  # how long known missing events may take to replay over SSE
REPLAY_TIMEOUT = httpx.Timeout(10.0, read=1.0)  # a replay of unknown length ends when it falls quiet
REFUSALS = (4400, 4401)

StreamMode = Literal["poll", "sse", "websocket"]


def sse_headers(session: dict[str, str], after: int | None) -> dict[str, str]:
    headers = {**session, "Accept": "text/event-stream"}
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    return headers


def handshake_error(exc: InvalidStatus) -> APIError:
    """The server refused the WebSocket upgrade with an HTTP error and the contract's body."""
    answer = exc.response
    response = httpx.Response(answer.status_code, headers=list(answer.headers.raw_items()), content=bytes(answer.body))
    return error_from_response(response)


def closed_error(exc: ConnectionClosed) -> APIError | TransportError:
    """A refusal after the upgrade (4400 / 4401) is the server's answer; anything else is transient."""
    if exc.rcvd is not None and exc.rcvd.code in REFUSALS:
        return error_from_close(exc.rcvd.code, exc.rcvd.reason)
    return TransportError(f"WebSocket closed: {exc}")
