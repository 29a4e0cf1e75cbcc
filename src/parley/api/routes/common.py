"""Small helpers the route modules share."""

from __future__ import annotations

from typing import Final, TypeVar

import msgspec

from parley.api.errors import UnsupportedMediaType, render_error
from parley.api.http import Request, Response
from parley.api.schemas import EventQuery
from parley.api.validation import blank, convert, decode_body
from parley.domain.accounts import Principal
from parley.domain.errors import ParleyError, Unauthenticated
from parley.service.cache import RepeatMemo
from parley.service.counters import COUNTS
from parley.service.ports import StreamSession
from parley.service.streaming import Streaming
from parley.streaming.sse import event_stream, parse_last_event_id
from parley.streaming.wire import encode_batch

T = TypeVar("T", bound=msgspec.Struct)

ORG: Final = "/via/v2/organizations/{orgId}"


def act_as(principal: Principal, user_id: str | None) -> None:
    """A credential bound to a user (a console sign-in) acts only as that user (contract 12)."""
    if principal.user_id is not None and user_id != principal.user_id:
        raise Unauthenticated.of("authorization", "insufficientScope", "this credential acts only as its own user")


def json_body(request: Request, schema: type[T]) -> T:
    """The body as ``schema``: 400 if empty or invalid, 415 if it is not JSON."""
    if not blank(request.body) and request.content_type != "application/json":
        raise UnsupportedMediaType.of(
            "content-type", "unsupportedMediaType", "send the body as Content-Type: application/json"
        )
    return decode_body(request.body, schema)


def optional_json_body(request: Request, schema: type[T]) -> T:
    """Like json_body, but an empty body means every field takes its default."""
    if blank(request.body):
        return decode_body(b"{}", schema)
    return json_body(request, schema)


# A poller repeats one query string poll after poll; its checked form is kept (a cursor that
# moves, ?after=N, makes each one new, and those are checked every time).
_EVENT_QUERIES: Final[RepeatMemo[bytes, EventQuery]] = RepeatMemo(256, 256)


def event_query(request: Request) -> EventQuery:
    if request.raw_query.find(b"after") >= 0:
        return convert(dict(request.query), EventQuery)
    query = _EVENT_QUERIES.get(request.raw_query)
    if query is None:
        query = convert(dict(request.query), EventQuery)
        _EVENT_QUERIES.keep(request.raw_query, query)
    return query


def refusal(error: ParleyError) -> tuple[int, list[tuple[str, str]], bytes]:
    """A WebSocket upgrade refused with the contract's error body (where the server can say it)."""
    response = render_error(error)
    return response.status, response.headers, response.body


async def long_poll(streaming: Streaming, session: StreamSession, request: Request) -> Response:
    query = event_query(request)
    COUNTS.stream_opened("longpoll")
    try:
        batch = await streaming.next_events(session, query.maxEvents, query.timeout, query.after)
    finally:
        COUNTS.stream_closed("longpoll")
    COUNTS.delivered("longpoll", len(batch))
    return Response(200, encode_batch(session.session_id, batch), [("content-type", "application/json")])


def sse(streaming: Streaming, session: StreamSession, request: Request) -> Response:
    after = parse_last_event_id(request.headers.get("last-event-id"))
    headers = [("content-type", "text/event-stream"), ("cache-control", "no-store"), ("x-accel-buffering", "no")]
    return Response(200, b"", headers, stream=event_stream(streaming, session, after))
