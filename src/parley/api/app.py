"""The application: ``respond(request)`` answers every HTTP request (routing, error rendering,
CORS); the ASGI side serves only what uvicorn hands over as ASGI, WebSockets and lifespan.

HTTP requests are read off the socket by ``api/connection.HttpConnection``, which enforces the
body limit, streams answers and cancels a long poll whose client leaves: one copy of each rule.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any, Final

from parley.api.errors import (
    MethodNotAllowed,
    PayloadTooLarge,
    render_error,
    render_unexpected,
)
from parley.api.http import ClientTimeouts, Request, Response, Route, RouteMatch, Router
from parley.api.log_context import CURRENT_REQUEST
from parley.domain.errors import NotFound, ParleyError
from parley.service.counters import COUNTS, UNMATCHED

log: Final = logging.getLogger("parley.api")

CORS_REQUEST_HEADERS: Final = "authorization, content-type, via-client-sessionid, idempotency-key, last-event-id"
CORS_EXPOSED_HEADERS: Final = "x-message-id, x-request-id, retry-after, ratelimit, ratelimit-policy"
_NO_PARAMS: Final[dict[str, str]] = {}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
WebSocketHandler = Callable[[Scope, Receive, Send, dict[str, str]], Awaitable[None]]
LifespanHook = Callable[[], Awaitable[None]]


class ParleyASGI:
    def __init__(
        self,
        router: Router,
        max_body_bytes: int,
        websockets: Router | None = None,
        on_startup: list[LifespanHook] | None = None,
        on_shutdown: list[LifespanHook] | None = None,
        cors_origins: str = "*",
        timeouts: ClientTimeouts | None = None,
    ) -> None:
        self.router = router
        self.timeouts = timeouts or ClientTimeouts()
        self.cors_origins = {o.strip() for o in cors_origins.split(",") if o.strip()}
        self.websockets = websockets or Router()
        self.max_body_bytes = max_body_bytes
        self.on_startup = on_startup or []
        self.on_shutdown = on_shutdown or []
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:  # HTTP is read by api/connection.HttpConnection, which calls ``respond``
            raise RuntimeError(f"ParleyASGI serves WebSocket and lifespan, not {kind!r}")

    # -- HTTP ------------------------------------------------------------------------------
    async def respond(self, request: Request) -> Response:
        """The answer to one request, its body already read (and within ``max_body_bytes``).

        Routing fills ``request.path_params`` and ``request.abandonable``: a long poll whose
        client leaves may be cancelled, taking nothing.
        """
        number = next(self._ids)  # made into a request id only for an error or a log line
        method, path = request.method, request.path
        match = self.router.match(method, path)
        counting = COUNTS.enabled
        started = perf_counter() if counting else 0.0
        route_label = UNMATCHED
        CURRENT_REQUEST.set((self._id_prefix, number, match.params if match is not None else _NO_PARAMS))
        try:
            routed = self._route(method, path, match)
            if isinstance(routed, Response):
                response = routed
            else:
                assert match is not None
                route_label = routed.path
                request.path_params = match.params
                request.abandonable = routed.long_poll
                response = await routed.handler(request)
        except ParleyError as exc:
            response = render_error(exc)
        except Exception:
            log.exception("unexpected error in request %s %s %s", self._request_id(number), method, path)
            response = render_unexpected(self._request_id(number))
        if response.status >= 400:
            response.headers.append(("x-request-id", self._request_id(number)))
        if match is not None and match.cors:
            response.headers.extend(self._cors_headers(request.headers))
        if counting:
            COUNTS.request(route_label, method, response.status, perf_counter() - started)
        return response

    def _request_id(self, number: int) -> str:
        return self._id_prefix + "-" + str(number)

    def too_large(self) -> Response:
        """The 413 for a body over the limit, for a server that refuses it before reading it."""
        return render_error(_too_large(self.max_body_bytes))

    def _route(self, method: str, path: str, match: RouteMatch | None) -> Route | Response:
        """The route that answers, or the answer when routing alone decides it (404, 405, a
        CORS preflight); kept synchronous, one coroutine fewer per request."""
        if match is None or "\x00" in path:
            raise NotFound.of("path", "unknownPath", f"no endpoint at {path.replace(chr(0), '%00')}")
        if method == "OPTIONS" and match.cors:
            return Response(
                204,
                b"",
                [
                    ("access-control-allow-methods", ", ".join(match.allowed)),
                    ("access-control-allow-headers", CORS_REQUEST_HEADERS),
                    ("access-control-max-age", "600"),
                ],
            )
        if match.route is None:
            allow = ", ".join(match.allowed)
            error = MethodNotAllowed.of("method", "methodNotAllowed", f"{method} is not allowed here; use {allow}")
            response = render_error(error)
            response.headers.append(("allow", allow))
            return response
        return match.route

    def _cors_headers(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        origin = headers.get("origin")
        if origin is None:
            return []
        if "*" in self.cors_origins:
            allowed = "*"
        elif origin in self.cors_origins:
            allowed = origin
        else:
            return [("vary", "Origin")]
        return [
            ("access-control-allow-origin", allowed),
            ("access-control-expose-headers", CORS_EXPOSED_HEADERS),
            ("vary", "Origin"),
        ]

    # -- WebSocket -------------------------------------------------------------------------
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self.websockets.match("GET", scope["path"])
        if match is None or match.route is None:
            await send({"type": "websocket.close", "code": 4404})
            return
        handler: Any = match.route.handler
        try:
            await handler(scope, receive, send, match.params)
        except Exception:
            log.exception("unexpected error on websocket %s", scope["path"])

    # -- lifespan --------------------------------------------------------------------------
    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for hook in self.on_startup:
                        await hook()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for hook in self.on_shutdown:
                    try:
                        await hook()
                    except Exception:
                        log.exception("shutdown step failed")
                await send({"type": "lifespan.shutdown.complete"})
                return


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge.of("body", "bodyTooLarge", f"the body exceeds the limit of {limit // 1024} KiB")
