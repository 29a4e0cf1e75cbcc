"""What the blocking and the asyncio clients share: building requests, reading answers, retrying."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Generic, Self, TypedDict, TypeVar

import httpx
import msgspec

from parley_client import _streaming_api as streaming
from parley_client._call import Call, operation
from parley_client._exceptions import TransportError, error_from_response
from parley_client._models import Session
from parley_client._retry import IDEMPOTENCY_HEADER, Retries, new_idempotency_key
from parley_client._sequencing import SessionPosition, StreamState
from parley_client._stream_common import STREAM_MODES, PollPlan, StreamOptions, StreamPlan

R = TypeVar("R")
Transport = TypeVar("Transport", bound=httpx.BaseTransport | httpx.AsyncBaseTransport)

USER_AGENT = "parley-client/0.1"
DEFAULT_TIMEOUT = 10.0
SESSION_HEADER = "via-client-sessionid"
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_json = msgspec.json.Encoder()


class Again:
    """An answer that says: wait ``delay`` seconds and send the same request again."""

    __slots__ = ("delay",)

    def __init__(self, delay: float) -> None:
        self.delay = delay


class HttpOptions(TypedDict):
    auth: httpx.Auth | None
    headers: dict[str, str]
    timeout: float


class BaseClient(Generic[Transport]):
    """Where the server is, which organization, how to retry; the session the caller acts in."""

    def __init__(
        self,
        base_url: str,
        *,
        org: str,
        retries: Retries | int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.org = org
        if retries is None:
            retries = Retries()
        self.retries = Retries(attempts=retries) if isinstance(retries, int) else retries
        self.session: Session | None = None
        self.session_id: str | None = None
        self._position: SessionPosition | None = None
        self._connect(transport, HttpOptions(auth=self._auth(), headers=self._headers(headers), timeout=timeout))

    def _auth(self) -> httpx.Auth | None:
        """How requests authenticate (the agent's credentials, the customer's web token)."""
        return None

    def _known_chats(self) -> set[str]:
        """Chats to catch up on after a lost session besides those its streams showed."""
        return set()

    poll = operation(streaming.poll)
    acknowledge = operation(streaming.acknowledge)

    @property
    def prefix(self) -> str:
        return f"/via/v2/organizations/{self.org}"

    @property
    def streaming_path(self) -> str:
        return f"{self.prefix}/streaming"

    def _adopt_session(self, session: Session | None) -> None:
        self.session = session
        self.session_id = session.session_id if session else None
        # A new session has handed out nothing yet; with acknowledgement the server keeps track.
        fresh = session is not None and not session.require_acknowledgement
        self._position = SessionPosition() if fresh else None

    def _connect(self, transport: Transport | None, options: HttpOptions) -> None:
        """Open the httpx client the I/O loop sends through."""
        raise NotImplementedError

    def _stream_plan(self, options: StreamOptions) -> StreamPlan:
        """How a new event stream starts: its feed and where it resumes."""
        mode = options.get("mode", "poll")
        if mode not in STREAM_MODES:
            raise ValueError(f"mode must be one of {', '.join(STREAM_MODES)}")
        auto_ack = options.get("auto_ack")
        if auto_ack is None:
            auto_ack = self.session is not None and self.session.require_acknowledgement
        resume_after = options.get("resume_after")
        position = self._position
        last = resume_after if resume_after is not None or position is None else position.handed
        state = StreamState(
            last=last,
            position=position,
            auto_ack=auto_ack,
            max_reconnects=options.get("max_reconnects", 10),
            backoff=self.retries,
        )
        poll = PollPlan(options.get("max_events", 100), options.get("poll_timeout", 30))
        return StreamPlan(mode, poll, state)

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return {"User-Agent": USER_AGENT, **(extra or {})}

    def _session_headers(self) -> dict[str, str]:
        if not self.session_id:
            raise RuntimeError("no streaming session yet: call start_session() first")
        return {SESSION_HEADER: self.session_id}

    def _request(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        headers = self._session_headers() if call.session else {}
        content: bytes | None = None
        if call.body is not None:
            content = _json.encode(call.body)
            headers["Content-Type"] = "application/json"
        if call.method == "POST":
            headers[IDEMPOTENCY_HEADER] = new_idempotency_key()
        return http.build_request(
            call.method,
            call.path,
            content=content,
            params=call.params,
            headers=headers,
            timeout=httpx.USE_CLIENT_DEFAULT if call.timeout is None else call.timeout,
        )

    def _outcome(self, call: Call[R], response: httpx.Response, attempt: int) -> R | Again:
        if response.is_success:
            return call.decode(response)
        delay = self.retries.after_response(attempt, response)
        if delay is not None:
            return Again(delay)
        raise error_from_response(response)

    def _after_error(self, call: Call[Any], error: httpx.TransportError, attempt: int) -> float:
        never_sent = isinstance(error, NEVER_SENT)
        delay = self.retries.after_error(attempt, error) if never_sent or call.repeat_after_loss else None
        if delay is None:
            raise TransportError(f"{type(error).__name__}: {error}") from error
        return delay


class SyncRunner(BaseClient[httpx.BaseTransport]):
    """The blocking I/O loop."""

    _http: httpx.Client

    def _connect(self, transport: httpx.BaseTransport | None, options: HttpOptions) -> None:
        self._http = httpx.Client(base_url=self.base_url, transport=transport, **options)

    def _run(self, call: Call[R]) -> R:
        request = self._request(self._http, call)
        attempt = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._after_error(call, exc, attempt)
            else:
                outcome = self._outcome(call, response, attempt)
                if not isinstance(outcome, Again):
                    return outcome
                delay = outcome.delay
            time.sleep(delay)
            attempt += 1

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class AsyncRunner(BaseClient[httpx.AsyncBaseTransport]):
    """The asyncio I/O loop."""

    _http: httpx.AsyncClient

    def _connect(self, transport: httpx.AsyncBaseTransport | None, options: HttpOptions) -> None:
        self._http = httpx.AsyncClient(base_url=self.base_url, transport=transport, **options)

    async def _run(self, call: Call[R]) -> R:
        request = self._request(self._http, call)
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._after_error(call, exc, attempt)
            else:
                outcome = self._outcome(call, response, attempt)
                if not isinstance(outcome, Again):
                    return outcome
                delay = outcome.delay
            await asyncio.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
