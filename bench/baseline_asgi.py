"""The ceiling: the least an ASGI server can do to accept a sendText request on one core.

uvicorn (uvloop + httptools) calls a raw ASGI callable that checks the three messaging headers,
decodes the body into a typed struct with msgspec and answers 202. No routing, no storage, no
events: whatever Parley measures is compared with what this app does in the same run.

Run it alone with ``python bench/baseline_asgi.py --port 8099``.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

REQUIRED_HEADERS = (b"authorization", b"x-api-key", b"via-client-sessionid")


class SendText(msgspec.Struct):
    interactionId: str
    entityName: str
    entityType: str
    text: str


_decode = msgspec.json.Decoder(SendText).decode
_ACCEPTED: Message = {"type": "http.response.start", "status": 202, "headers": [(b"content-length", b"0")]}
_EMPTY: Message = {"type": "http.response.body", "body": b""}


async def _answer(send: Send, status: int) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
    await send(_EMPTY)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    present = {name for name, _ in scope["headers"]}
    if not all(name in present for name in REQUIRED_HEADERS):
        await _answer(send, 401)
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    try:
        _decode(body)
    except msgspec.DecodeError:
        await _answer(send, 400)
        return
    await send(_ACCEPTED)
    await send(_EMPTY)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
