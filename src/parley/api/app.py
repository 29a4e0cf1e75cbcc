"""The ASGI application: routing, body limits, error rendering, lifespan, WebSocket dispatch."""

from __future__ import annotations

import asyncio
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
from parley.api.http import ClientTimeouts, Request, Response, Route, RouteMatch, Router, parse_query
from parley.api.log_context import CURRENT_REQUEST
from parley.domain.errors import NotFound, ParleyError
from parley.service.counters import COUNTS, UNMATCHED

log: Final = logging.getLogger("parley.api")

CORS_REQUEST_HEADERS: Final = "authorization, content-type, via-client-sessionid, idempotency-key, last-event-id"
CORS_EXPOSED_HEADERS: Final = "x-message-id, x-request-id, retry-after, ratelimit, ratelimit-policy"
BODY_METHODS: Final = frozenset(("POST", "PUT", "PATCH", "DELETE"))
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
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    # -- HTTP ------------------------------------------------------------------------------
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        client_ip: str = client[0] if client else ""
        match = self.router.match(method, path)
        raw_query: bytes = scope.get("query_string", b"")
        response = await self.respond(method, path, match, headers, raw_query, client_ip, b"", receive)
        if response.status == 499:
            return  # the client of a long poll went away
        await self._send(response, scope, receive, send)

    async def respond(
        self,
        method: str,
        path: str,
        match: RouteMatch | None,
        headers: dict[str, str],
        raw_query: bytes,
        client_ip: str,
        body: bytes,
        receive: Receive | None,
    ) -> Response:
        """The answer to one request, whatever carried it.

        ``match`` is ``self.router.match(method, path)``. Under ASGI, ``receive`` reads the body
        and tells a long poll that its client left; a server that reads the body itself passes
        it as ``body`` with no ``receive``, and cancels a long poll whose client leaves.
        """
        number = next(self._ids)  # made into a request id only for an error or a log line
        counting = COUNTS.enabled
        started = perf_counter() if counting else 0.0
        route_label = UNMATCHED
        CURRENT_REQUEST.set((self._id_prefix, number, match.params if match is not None else _NO_PARAMS))
        try:
            routed = self._route(method, path, match)
            if isinstance(routed, Response):
                response = routed
            else:
                route = routed
                route_label = route.path
                request = Request(
                    method=method,
                    path=path,
                    headers=headers,
                    query=parse_query(raw_query),
                    client_ip=client_ip,
                    path_params=match.params if match is not None else {},
                    body=body,
                    raw_query=raw_query,
                )
                if receive is None:
                    response = await route.handler(request)
                else:
                    if method in BODY_METHODS:
                        request.body = await self._read_body(receive, headers)
                    if route.long_poll:
                        response = await self._unless_disconnected(route.handler(request), receive)
                    else:
                        response = await route.handler(request)
        except ParleyError as exc:
            response = render_error(exc)
        except Exception:
            log.exception("unexpected error in request %s %s %s", self._request_id(number), method, path)
            response = render_unexpected(self._request_id(number))
        if response.status >= 400:
            response.headers.append(("x-request-id", self._request_id(number)))
        if match is not None and match.cors and response.status != 499:
            response.headers.extend(self._cors_headers(headers))
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

    async def _unless_disconnected(self, work: Awaitable[Response], receive: Receive) -> Response:
        """Run a long poll, but stop it (taking nothing) the moment its client goes away.

        The poll runs inline and one watcher task cancels it on a disconnect: cheaper than
        running the poll as a task of its own and waiting for the first of the two.
        """
        task = asyncio.current_task()
        assert task is not None
        running, gone = True, False

        async def watch() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            if running:  # still inside ``work``: the cancellation lands there
                gone = True
                task.cancel()

        watcher = asyncio.create_task(watch())
        try:
            response = await work
        except asyncio.CancelledError:
            if gone and task.uncancel() == 0:
                return Response(499)  # nobody is listening; never sent
            raise
        finally:
            running = False
            watcher.cancel()
        return response

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

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        limit = self.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _send(self, response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
        if response.stream is None:
            raw_headers.append((b"content-length", str(len(response.body)).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
            body = b"" if scope["method"] == "HEAD" else response.body
            await send({"type": "http.response.body", "body": body})
            return
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        stream = response.stream

        async def pump() -> None:
            async for chunk in stream:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        # A long-lived stream ends when it is done or the moment the client goes away.
        tasks = {asyncio.create_task(pump()), asyncio.create_task(watch_disconnect())}
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if (
                    not task.cancelled()
                    and isinstance(task.exception(), Exception)
                    and not isinstance(task.exception(), OSError)
                ):
                    log.error("stream failed", exc_info=task.exception())
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

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
