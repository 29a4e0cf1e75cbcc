"""A minimal HTTP layer on raw ASGI.

Why not a framework: ``../performance.md`` measured Starlette at about half and FastAPI at a
fifth of a bare ASGI callable on the hot POST routes. Routing, body limits and header parsing
are small enough to own; everything else (validation, OpenAPI) comes from msgspec.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

import msgspec

from parley.api.validation import refuse_nul
from parley.service.cache import RepeatMemo

JSON_ENCODER: Final = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class ClientTimeouts:
    """How long the HTTP connection waits on a client (seconds; 0 waits forever)."""

    head: float = 10.0  # from a request's first byte to the end of its headers
    body: float = 30.0  # from the end of the headers to the end of the body
    send: float = 30.0  # for a client that has stopped taking its answers to take some again


# The hot path's values spell out __init__: the one a dataclass generates always runs as
# interpreted Python, even where the class itself is compiled.
@dataclass(slots=True, init=False)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    client_ip: str
    body: bytes
    # The query string as sent, for callers whose parameters are not UTF-8 (an SMS gateway's).
    raw_query: bytes
    path_params: dict[str, str]  # filled by routing
    abandonable: bool  # set by routing: a long poll whose client leaves is cancelled, taking nothing
    _query: dict[str, str] | None

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        client_ip: str = "",
        body: bytes = b"",
        raw_query: bytes = b"",
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.client_ip = client_ip
        self.body = body
        self.raw_query = raw_query
        self.path_params = {}
        self.abandonable = False
        self._query = None

    @property
    def query(self) -> dict[str, str]:
        """The query's parameters, parsed when first asked for (400 on a NUL in one)."""
        if self._query is None:
            self._query = parse_query(self.raw_query)
        return self._query

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(slots=True, init=False)
class Response:
    status: int
    body: bytes
    headers: list[tuple[str, str]]
    stream: AsyncIterator[bytes] | None

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        stream: AsyncIterator[bytes] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.headers = [] if headers is None else headers
        self.stream = stream

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
        h = [("content-type", "application/json")]
        if headers:
            h.extend(headers)
        return cls(status, JSON_ENCODER.encode(data), h)

    @classmethod
    def empty(cls, status: int = 202, headers: list[tuple[str, str]] | None = None) -> Response:
        return cls(status, b"", list(headers or []))


Handler = Callable[[Request], Awaitable[Response]]

_PARAM: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(slots=True)
class Route:
    """One endpoint and what the OpenAPI document says about it."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type | None = None
    response: type | None = None
    status: int = 200
    security: tuple[str, ...] = ()  # names of the security schemes that apply
    headers: tuple[str, ...] = ()  # required request headers besides Authorization
    query: type | None = None
    content_type: str = "application/json"
    error_statuses: tuple[int, ...] = ()
    hidden: bool = False
    cors: bool = False  # callable from other origins' pages (the customer side)
    long_poll: bool = False  # cancel the handler when the client goes away


class _Pattern:
    __slots__ = ("allowed", "cors", "key", "names", "regex", "routes", "static")

    def __init__(self, path: str) -> None:
        self.names = _PARAM.findall(path)
        self.static = not self.names
        segments = path.split("/")
        parts = []
        for segment in segments:
            param = _PARAM.fullmatch(segment)
            parts.append(f"(?P<{param.group(1)}>[^/]+)" if param else re.escape(segment))
        self.regex = re.compile("^" + "/".join(parts) + "$")
        # Dynamic paths are looked up by their segment count and last segment, so a request
        # tries the few patterns that could match instead of all of them.
        last = segments[-1]
        self.key = (len(segments), None if _PARAM.fullmatch(last) else last)
        self.routes: dict[str, Route] = {}
        self.allowed: list[str] = []
        self.cors = False

    def add(self, route: Route) -> None:
        if route.method in self.routes:
            raise ValueError(f"duplicate route {route.method} {route.path}")
        self.routes[route.method] = route
        self.allowed = sorted(self.routes)
        self.cors = self.cors or route.cors


class RouteMatch:
    __slots__ = ("allowed", "cors", "params", "route")

    def __init__(self, route: Route | None, params: dict[str, str], allowed: list[str], cors: bool) -> None:
        self.route = route
        self.params = params
        self.allowed = allowed
        self.cors = cors


class Router:
    def __init__(self) -> None:
        self._static: dict[str, _Pattern] = {}
        self._dynamic: dict[tuple[int, str | None], list[_Pattern]] = {}
        self._by_path: dict[str, _Pattern] = {}
        # An agent or a poller sends the same few paths over and over; a regular expression
        # match costs more than the rest of routing.
        self._matched: RepeatMemo[str, tuple[_Pattern, dict[str, str]]] = RepeatMemo(4096, 512)
        self.routes: list[Route] = []

    def add(self, route: Route) -> None:
        pattern = self._by_path.get(route.path)
        if pattern is None:
            pattern = _Pattern(route.path)
            self._by_path[route.path] = pattern
            if pattern.static:
                self._static[route.path] = pattern
            else:
                self._dynamic.setdefault(pattern.key, []).append(pattern)
        pattern.add(route)
        self.routes.append(route)
        self._matched.clear()

    def match(self, method: str, path: str) -> RouteMatch | None:
        pattern = self._static.get(path)
        params: dict[str, str] = {}
        if pattern is None:
            pattern, params = self._match_dynamic(path)
            if pattern is None:
                return None
        route = pattern.routes.get(method)
        if route is None and method == "HEAD":
            route = pattern.routes.get("GET")
        return RouteMatch(route, params, pattern.allowed, pattern.cors)

    def _match_dynamic(self, path: str) -> tuple[_Pattern | None, dict[str, str]]:
        known = self._matched.get(path)
        if known is not None:
            return known[0], dict(known[1])
        pattern, params = self._search_dynamic(path)
        if pattern is not None:
            self._matched.keep(path, (pattern, params))
        return pattern, dict(params)

    def _search_dynamic(self, path: str) -> tuple[_Pattern | None, dict[str, str]]:
        count = path.count("/") + 1
        last = path[path.rfind("/") + 1 :]
        for key in ((count, last), (count, None)):
            for candidate in self._dynamic.get(key, ()):
                m = candidate.regex.match(path)
                if m is not None:
                    return candidate, m.groupdict()
        return None, {}


# Pollers repeat one query string request after request; parsing it costs more than the poll.
_QUERIES: Final[RepeatMemo[bytes, dict[str, str]]] = RepeatMemo(256, 256)


def parse_query(raw: bytes) -> dict[str, str]:
    if not raw:
        return {}
    known = _QUERIES.get(raw)
    if known is None:
        known = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
        refuse_nul(known)
        _QUERIES.keep(raw, known)
    return dict(known)
