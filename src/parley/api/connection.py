"""HTTP/1.1 connections served straight into Parley's ``respond(request)``, with no ASGI in between:
the one HTTP request path, in production and in the tests alike.

uvicorn still runs the process: sockets, signals, lifespan, graceful shutdown, the date header
and WebSockets (an upgrade is handed to its WebSocket protocol). For each connection it creates
an ``HttpConnection`` instead of its own HTTP protocol, which would build an ASGI scope, message
dictionaries, and check every response header with two regular expressions: about half of what
a sendText cost in the server. httptools (the parser uvicorn uses) still reads the requests.

Differences from uvicorn's protocol, all deliberate: the whole body is read before the handler
runs (bodies are small and capped; a declared or received size over the cap is answered 413 at
once and the connection closed); a pipeline of requests is served by one task in order; the
keep-alive timer is armed once per idle period rather than once per response.

What one client may hold is bounded. A request's head and its body must each arrive within
their time (``ClientTimeouts``), or the client gets 408 and the connection closes: a connection
that sent part of a request and then nothing was kept forever, and enough of them exhausted the
server's file descriptors. A client that stops taking its answers (the transport pauses
writing) is neither read from nor answered until it takes them again, and is dropped if that
takes longer than the send timeout: answering a pipeline into an ever-growing buffer cost 63 MB
per 1,000 ``GET /openapi.json``. What waits is then at most ``MAX_PIPELINE`` requests and the
transport's buffer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import unquote

import httptools

from parley.api.app import ParleyASGI
from parley.api.errors import RequestTimeout, render_error, render_unexpected
from parley.api.forwarded import TrustedProxies, trusted_proxies
from parley.api.http import Request, Response
from parley.domain.errors import InvalidRequest

log: Final = logging.getLogger("parley.api")
access_log: Final = logging.getLogger("uvicorn.access")

MAX_HEADER_BYTES: Final = 64 * 1024
MAX_PIPELINE: Final = 16  # requests waiting behind the one in flight before reading pauses
STATUS_TEXT: Final = {s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n" for s in HTTPStatus}
CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
NO_BODY_STATUSES: Final = frozenset((204, 304))
METHODS: Final = {m.encode(): m for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")}


def _resolve(future: asyncio.Future[None] | None) -> None:
    """Let whoever waits on ``future`` go on (if anyone still does)."""
    if future is not None and not future.done():
        future.set_result(None)


def check_header_value(name: str, value: str) -> None:
    """Refuse a value that would end the header line (response splitting) or hold a NUL."""
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError("a header value holds a line break or NUL: " + name)


class _CommonHeaders:
    """The headers uvicorn puts on every response (the date), as text, remade when it renews them."""

    def __init__(self) -> None:
        self.source: list[tuple[bytes, bytes]] | None = None
        self.text = ""

    def of(self, server_state: Any) -> str:
        source: list[tuple[bytes, bytes]] = server_state.default_headers
        if source is not self.source:  # uvicorn sets a new list each second
            self.text = "".join(n.decode("latin-1") + ": " + v.decode("latin-1") + "\r\n" for n, v in source)
            self.source = source
        return self.text


_common_headers: Final = _CommonHeaders()


def _target(url: bytes) -> tuple[str, bytes]:
    """The decoded path and the raw query of a request target."""
    try:
        path = ""
        query = b""
        if url.startswith(b"/"):  # the usual origin form, split without a parser
            raw_path, _, query = url.partition(b"?")
            path = raw_path.decode("ascii")
        if not path or "#" in path or (query and query.find(b"#") >= 0):  # another form, or a fragment
            parsed: Any = httptools.parse_url(url)
            # The stubs say bytes; httptools gives None for a part the URL lacks.
            parsed_path: bytes | None = parsed.path
            parsed_query: bytes | None = parsed.query
            path = parsed_path.decode("ascii") if parsed_path else "/"
            query = parsed_query or b""
    except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
        raise httptools.HttpParserError("the request target is not a valid URL") from None
    return (unquote(path) if "%" in path else path), query


def _check_transfer_encoding(value: str) -> None:
    """Only ``chunked`` alone is a body framing we read (RFC 9112 6.1). Any other coding or a list
    (``identity, chunked``, also when split over two headers) is refused: a proxy in front may
    frame such a body otherwise, which is how requests are smuggled."""
    if value.strip().lower() != "chunked":
        raise httptools.HttpParserError("Transfer-Encoding other than chunked: " + value)


class _Request:
    """One request read off the wire, waiting for its turn."""

    __slots__ = ("answer", "head", "keep_alive", "request")

    def __init__(self, request: Request, keep_alive: bool, answer: Response | None) -> None:
        self.request = request
        self.keep_alive = keep_alive
        self.answer = answer  # decided before the handler (a body over the limit)
        self.head = request.method == "HEAD"


class HttpConnection:
    """An ``asyncio`` protocol for one client connection; uvicorn constructs it per connection."""

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        app = config.app
        if not isinstance(app, ParleyASGI):
            raise TypeError("HttpConnection serves a ParleyASGI application only")
        self.app: ParleyASGI = app
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop: asyncio.AbstractEventLoop = _loop or asyncio.get_event_loop()
        self.connections: set[Any] = server_state.connections
        self.tasks: set[Any] = server_state.tasks
        self.keep_alive_seconds: float = float(config.timeout_keep_alive)
        self.head_seconds: float = app.timeouts.head
        self.body_seconds: float = app.timeouts.body
        self.send_seconds: float = app.timeouts.send
        self.proxies: TrustedProxies | None = None
        if config.proxy_headers:
            self.proxies = trusted_proxies(config.forwarded_allow_ips)
        self.log_access: bool = bool(config.access_log)
        self.parser = httptools.HttpRequestParser(self)
        # Answer the first request of a pipeline even when the client closes its side after it.
        self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: Any = None
        self.peer_ip = ""
        self.queue: deque[_Request] = deque()
        self.task: asyncio.Task[None] | None = None  # serves this connection's requests in order
        self.wakeup: asyncio.Future[None] | None = None  # the task waits on it for the next request
        self.busy = False  # a request is being answered
        self.in_flight: Request | None = None
        self.cancel_on_close = False  # the answer in flight is a stream
        self.gone = False
        self.closing = False  # answer what is queued, then close
        self.write_paused = False
        self.drained: asyncio.Future[None] | None = None
        self.send_timer: asyncio.TimerHandle | None = None
        self.reading_paused = False
        self.idle_since = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None
        # The part of a request being read (head or body) must be in by ``read_deadline``
        # (loop time; 0 when nothing is being read). One timer checks it, re-armed lazily.
        self.read_bound = 0.0
        self.read_deadline = 0.0
        self.read_timer: asyncio.TimerHandle | None = None
        self.read_timer_due = 0.0
        # the request being read
        self.url = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.header_bytes = 0
        self.current: _Request | None = None
        self.body_parts: list[bytes] = []
        self.body_size = 0
        self.discarding = False  # the rest of this request's body is not wanted
        self.upgrading = False
        self.reading = False  # between the first byte of a request and its end
        self.broken = False  # the parser met something that is not HTTP; read nothing more

    # -- asyncio protocol -------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.connections.add(self)
        peer = transport.get_extra_info("peername")
        self.peer_ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        self._idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self._let_go()
        self.queue.clear()
        abandoned = self.cancel_on_close or (self.in_flight is not None and self.in_flight.abandonable)
        if self.task is not None and abandoned:
            self.task.cancel()
        _resolve(self.drained)

    def _let_go(self) -> None:
        """This protocol is done with the connection (closed, or handed to another protocol)."""
        self.gone = True
        self.connections.discard(self)
        self._wake()  # an idle task sees it and ends
        for timer in (self.idle_timer, self.read_timer, self.send_timer):
            if timer is not None:
                timer.cancel()
        self.idle_timer = self.read_timer = self.send_timer = None

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        """The client is not taking its answers: stop reading until it does, or drop it."""
        self.write_paused = True
        self._pace_reading()
        if self.send_seconds > 0 and self.send_timer is None and not self.gone:
            self.send_timer = self.loop.call_later(self.send_seconds, self._send_timed_out)

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.send_timer is not None:
            self.send_timer.cancel()
            self.send_timer = None
        _resolve(self.drained)
        self._pace_reading()

    def data_received(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self.upgrading:
                self._upgrade()
            else:  # an upgrade we do not speak (h2c...): answer the request, then close
                self.broken = True  # the parser stays paused at the upgrade
                self.closing = True
                if not self.busy and not self.queue:
                    self.transport.close()
        except httptools.HttpParserError as exc:
            # what a callback raised is the better reason than the parser's "User callback error"
            cause = exc.__context__ if isinstance(exc.__context__, httptools.HttpParserError) else exc
            self._refuse_malformed(str(cause) or "the request is not valid HTTP/1.1")

    def shutdown(self) -> None:
        """uvicorn is stopping: close now if idle, else after the answers in flight."""
        self.closing = True
        if not self.busy and not self.queue and self.current is None:
            self.transport.close()

    # -- httptools callbacks -----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.reading = True
        self._read_within(self.head_seconds)
        self.url = b""
        self.raw_headers = []
        self.header_bytes = 0
        self.current = None
        self.body_parts = []
        self.body_size = 0
        self.discarding = False
        self.upgrading = False

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        self.raw_headers.append((name.lower(), value))

    def _count_head(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > MAX_HEADER_BYTES:
            raise httptools.HttpParserError("the request line and headers exceed 64 KiB")

    def on_headers_complete(self) -> None:
        parser = self.parser
        raw_method: bytes = parser.get_method()
        method = METHODS.get(raw_method) or raw_method.decode("ascii")
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in self.raw_headers}
        if "upgrade" in headers and parser.should_upgrade() and headers["upgrade"].lower() == "websocket":
            self.upgrading = self.config.ws_protocol_class is not None
            if self.upgrading:
                return
        path, raw_query = _target(self.url)
        client_ip = self.peer_ip
        if self.proxies is not None and "x-forwarded-for" in headers:
            client_ip = self.proxies.client_of(client_ip, self._all("x-forwarded-for"))
        # HTTP/1.0 closes after the answer (as uvicorn does), even when it asks to keep alive;
        # without a Connection header llhttp already says so.
        keep_alive = parser.should_keep_alive() and ("connection" not in headers or parser.get_http_version() != "1.0")
        if "transfer-encoding" in headers:
            _check_transfer_encoding(self._all("transfer-encoding"))
        request = _Request(Request(method, path, headers, client_ip, b"", raw_query), keep_alive, None)
        self.current = request
        self._read_within(self.body_seconds)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.app.max_body_bytes:
            self._refuse_body(request)
        elif headers.get("expect", "").lower() == "100-continue":
            self.transport.write(CONTINUE)

    def on_body(self, body: bytes) -> None:
        if self.discarding or self.upgrading:
            return
        self.body_size += len(body)
        if self.body_size > self.app.max_body_bytes and self.current is not None:
            self._refuse_body(self.current)
            return
        self.body_parts.append(body)

    def on_message_complete(self) -> None:
        self.reading = False
        self.read_deadline = 0.0
        request = self.current
        if self.discarding or self.upgrading or request is None:
            return
        parts = self.body_parts
        if parts:
            request.request.body = parts[0] if len(parts) == 1 else b"".join(parts)
        self.current = None
        self._enqueue(request)

    # -- serving -----------------------------------------------------------------------------
    def _enqueue(self, request: _Request) -> None:
        self.queue.append(request)
        if self.task is None:
            task = self.loop.create_task(self._serve_queue())
            self.task = task
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif self.wakeup is not None:
            self._wake()
        elif len(self.queue) >= MAX_PIPELINE and not self.reading_paused:
            self._pace_reading()

    def _wake(self) -> None:
        wakeup, self.wakeup = self.wakeup, None
        _resolve(wakeup)

    async def _serve_queue(self) -> None:
        """The connection's one task: it serves requests as they come, and waits in between.

        One task for the connection's life rather than one per request: making a task (and
        registering it, and calling back when it ends) was a twentieth of a sendText.
        """
        try:
            while not self.gone:
                if not self.queue:
                    self.busy = False
                    self._idle()
                    self.wakeup = self.loop.create_future()
                    await self.wakeup
                    continue
                self.busy = True
                request = self.queue.popleft()
                if self.reading_paused:
                    self._pace_reading()
                if not await self._answer(request):
                    break
                self.in_flight = None
                self.cancel_on_close = False
                self.server_state.total_requests += 1
                if not request.keep_alive or (self.closing and not self.queue):
                    self.transport.close()
                    break
                if self.write_paused:  # the next answer waits until the client takes this one
                    await self._drain()
        except asyncio.CancelledError:
            if not self.gone:  # cancelled by a stopping server: nobody will answer
                self.transport.close()
            raise
        finally:
            self.task = None
            self.busy = False
            self.in_flight = None
            self.cancel_on_close = False

    async def _answer(self, request: _Request) -> bool:
        """Answer one request; False if the client has gone (a long poll left takes nothing)."""
        response = request.answer
        if response is None:
            self.in_flight = request.request
            try:
                response = await self.app.respond(request.request)
            except asyncio.CancelledError:
                if self.gone:
                    return False
                raise
        if self.gone:
            return False
        if response.stream is None:
            self._write(request, response)
        else:
            self.cancel_on_close = True
            await self._stream(request, response)
        if self.log_access:
            self._log(request, response)
        return True

    def _log(self, request: _Request, response: Response) -> None:
        r = request.request
        target = r.path + ("?" + r.raw_query.decode("latin-1") if r.raw_query else "")
        # the arguments uvicorn's access-log formatter expects
        access_log.info('%s - "%s %s HTTP/%s" %d', r.client_ip, r.method, target, "1.1", response.status)

    def _write(self, request: _Request, response: Response) -> None:
        try:
            head = self._head(request, response, chunked=False)
        except ValueError:
            log.exception("a response header cannot be sent (%s %s)", request.request.method, request.request.path)
            response = render_unexpected("-")
            head = self._head(request, response, chunked=False)
        if request.head or not response.body:
            self.transport.write(head)
        else:
            self.transport.write(head + response.body)

    def _head(self, request: _Request, response: Response, chunked: bool) -> bytes:
        status = response.status
        line = STATUS_TEXT.get(status) or "HTTP/1.1 " + str(status) + " \r\n"
        text = [line, _common_headers.of(self.server_state)]
        for name, value in response.headers:
            check_header_value(name, value)
            text += (name, ": ", value, "\r\n")
        if chunked:
            text.append("transfer-encoding: chunked\r\n")
        elif status not in NO_BODY_STATUSES:
            text += ("content-length: ", str(len(response.body)), "\r\n")
        if not request.keep_alive or (self.closing and not self.queue):
            text.append("connection: close\r\n")
        text.append("\r\n")
        return "".join(text).encode("latin-1")

    async def _stream(self, request: _Request, response: Response) -> None:
        stream = response.stream
        assert stream is not None
        self.transport.write(self._head(request, response, chunked=True))
        try:
            async for chunk in stream:
                if chunk:
                    self.transport.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                if self.write_paused:
                    await self._drain()
                if self.gone:
                    return
            self.transport.write(b"0\r\n\r\n")
        except Exception:
            log.exception("stream failed (%s %s)", request.request.method, request.request.path)
            self.transport.close()
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _drain(self) -> None:
        self.drained = self.loop.create_future()
        if self.write_paused and not self.gone:
            await self.drained
        self.drained = None

    # -- pacing the client ----------------------------------------------------------------------
    def _pace_reading(self) -> None:
        """Read while the client takes its answers and the queue has room; else the kernel holds
        what it sends (and, once full, makes it wait)."""
        if self.gone:
            return
        if self.reading_paused:
            if not self.write_paused and len(self.queue) <= MAX_PIPELINE // 2:
                self.reading_paused = False
                self.transport.resume_reading()
                if self.read_deadline:  # the time we did not read is not the client's
                    self._read_within(self.read_bound)
        elif self.write_paused or len(self.queue) >= MAX_PIPELINE:
            self.reading_paused = True
            self.transport.pause_reading()

    def _read_within(self, seconds: float) -> None:
        """The part of the request now being read must arrive within ``seconds`` (0: no bound)."""
        self.read_bound = seconds
        if seconds <= 0:
            self.read_deadline = 0.0
            return
        deadline = self.read_deadline = self.loop.time() + seconds
        if self.read_timer is not None:
            if self.read_timer_due <= deadline:
                return  # it fires first and re-arms for what is left
            self.read_timer.cancel()
        self._arm_read_timer(seconds, deadline)

    def _arm_read_timer(self, delay: float, due: float) -> None:
        self.read_timer_due = due
        self.read_timer = self.loop.call_later(delay, self._read_check)

    def _read_check(self) -> None:
        self.read_timer = None
        if self.gone or not self.read_deadline or self.broken:
            return
        if self.reading_paused:  # we stopped reading, not the client; resuming restarts its time
            return
        now = self.loop.time()
        if now < self.read_deadline:
            self._arm_read_timer(self.read_deadline - now, self.read_deadline)
            return
        part = "headers" if self.current is None else "body"
        bound = self.read_bound
        self._refuse(RequestTimeout.of("request", "requestTimeout", f"the request's {part} took over {bound:g} s"))

    def _send_timed_out(self) -> None:
        """The client has taken none of its answers for the send timeout: let it go."""
        self.send_timer = None
        if self.write_paused and not self.gone:
            log.info("closing a connection from %s that took no answer for %g s", self.peer_ip, self.send_seconds)
            self.transport.abort()

    # -- the connection's edges ----------------------------------------------------------------
    def _idle(self) -> None:
        """Close the connection once it has been idle for the keep-alive time."""
        self.idle_since = self.loop.time()
        if self.idle_timer is None and not self.gone:
            self.idle_timer = self.loop.call_later(self.keep_alive_seconds, self._idle_check)

    def _idle_check(self) -> None:
        self.idle_timer = None
        if self.gone or self.busy:
            return  # the end of the request in flight arms it again
        if self.reading:  # a request is arriving, however slowly: uvicorn would wait too
            self._idle()
            return
        waited = self.loop.time() - self.idle_since
        if waited >= self.keep_alive_seconds - 0.01:
            self.transport.close()
        else:
            self.idle_timer = self.loop.call_later(self.keep_alive_seconds - waited, self._idle_check)

    def _refuse_body(self, request: _Request) -> None:
        """413 at once, without reading the rest; the connection closes after the answer."""
        self.discarding = True
        self.current = None
        self.body_parts = []
        request.answer = self.app.too_large()
        request.keep_alive = False
        self._enqueue(request)

    def _refuse_malformed(self, reason: str) -> None:
        self._refuse(InvalidRequest.of("request", "malformedRequest", "not a valid HTTP/1.1 request: " + reason))

    def _refuse(self, error: InvalidRequest | RequestTimeout) -> None:
        """Answer ``error`` after what is queued, read nothing more, then close."""
        self.broken = True
        self.current = None
        self.read_deadline = 0.0
        self._enqueue(_Request(Request("GET", "", {}, self.peer_ip), False, render_error(error)))

    def _all(self, name: str) -> str:
        """Every value of a header that may repeat, joined as one list."""
        wanted = name.encode()
        return ", ".join(v.decode("latin-1") for n, v in self.raw_headers if n == wanted)

    def _upgrade(self) -> None:
        """Hand the connection to uvicorn's WebSocket protocol, replaying the request to it."""
        self._let_go()
        method: bytes = self.parser.get_method()
        lines = [method + b" " + self.url + b" HTTP/1.1\r\n"]
        for name, value in self.raw_headers:
            lines.append(name + b": " + value + b"\r\n")
        lines.append(b"\r\n")
        protocol = self.config.ws_protocol_class(
            config=self.config, server_state=self.server_state, app_state=self.app_state
        )
        protocol.connection_made(self.transport)
        protocol.data_received(b"".join(lines))
        self.transport.set_protocol(protocol)
