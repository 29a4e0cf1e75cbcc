"""Safe retries and the error tree, against a scripted transport."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest

import parley_client._base as base
from parley_client import (
    APIError,
    BadRequest,
    DecodingError,
    Gone,
    InternalServerError,
    InvalidSession,
    MethodNotAllowed,
    NotFound,
    ParleyError,
    PayloadTooLarge,
    RateLimited,
    Retries,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from tests.sdk.fakes import FakeServer, body_of, error, session_body


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the clients wait between tries, without waiting."""
    delays: list[float] = []

    async def async_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(base, "time", SimpleNamespace(sleep=delays.append))
    monkeypatch.setattr(base, "asyncio", SimpleNamespace(sleep=async_sleep))
    return delays


def scripted(*answers: httpx.Response | Exception) -> FakeServer:
    """A session opens; then each sendText gets the next answer."""
    script = list(answers)

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/streaming/session"):
            return httpx.Response(200, json=session_body())
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return FakeServer(api)


SENT = httpx.Response(202, headers={"x-message-id": "msg_1"})


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_server_is_retried_after_retry_after_with_the_same_idempotency_key(
    status: int, waits: list[float]
) -> None:
    busy = error(status, "rateLimited", "x-api-key", **{"retry-after": "2"})
    fake = scripted(busy, busy, SENT)
    with fake.client() as client:
        client.start_session("usr_1")
        assert client.send_text("int_1", "hello") == "msg_1"
    sends = fake.keys[1:]
    assert len(sends) == 3 and len(set(sends)) == 1 and sends[0]
    assert len(waits) == 2 and all(w >= 2 for w in waits)
    assert body_of(fake.requests[-1])["text"] == "hello"


def test_lost_connections_are_retried_with_the_same_key_then_reported(waits: list[float]) -> None:
    fake = scripted(httpx.ConnectError("refused"))
    with fake.client(retries=Retries(attempts=2, backoff=0.5)) as client:
        client.start_session("usr_1")
        with pytest.raises(TransportError):
            client.send_text("int_1", "hello")
    assert len(fake.keys) == 1 + 3 and len(set(fake.keys[1:])) == 1
    assert len(waits) == 2 and 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0  # exponential, jittered


def test_a_send_whose_answer_was_lost_is_repeated_and_answered_once(waits: list[float]) -> None:
    fake = scripted(httpx.ReadError("reset"), SENT)
    with fake.client() as client:
        client.start_session("usr_1")
        assert client.send_text("int_1", "hello") == "msg_1"
    assert fake.keys[1] == fake.keys[2]


def test_every_call_has_its_own_idempotency_key() -> None:
    fake = scripted(SENT)
    with fake.client() as client:
        client.start_session("usr_1")
        client.send_text("int_1", "one")
        client.send_text("int_1", "two")
    assert len(set(fake.keys)) == 3


def test_a_retry_after_beyond_the_limit_is_raised_at_once(waits: list[float]) -> None:
    fake = scripted(error(429, "rateLimited", "x-api-key", **{"retry-after": "120"}))
    with fake.client(retries=Retries(max_retry_after=30)) as client:
        client.start_session("usr_1")
        with pytest.raises(RateLimited) as caught:
            client.send_text("int_1", "hello")
    assert caught.value.retry_after == 120 and waits == []


def test_retries_stop_after_the_configured_attempts(waits: list[float]) -> None:
    fake = scripted(error(503, "unavailable", "server", **{"retry-after": "1"}))
    with fake.client(retries=Retries(attempts=3)) as client:
        client.start_session("usr_1")
        with pytest.raises(ServiceUnavailable):
            client.send_text("int_1", "hello")
    assert len(fake.requests) == 1 + 4 and len(waits) == 3


async def test_the_async_client_retries_the_same_way(waits: list[float]) -> None:
    busy = error(429, "rateLimited", "x-api-key", **{"retry-after": "1"})
    fake = scripted(busy, httpx.ReadTimeout("slow"), SENT)
    async with fake.async_client() as client:
        await client.start_session("usr_1")
        assert await client.send_text("int_1", "hello") == "msg_1"
    assert len(set(fake.keys[1:])) == 1 and len(fake.keys) == 4
    assert waits[0] >= 1


def test_errors_other_than_busy_are_not_retried() -> None:
    fake = scripted(error(422, "notActive", "interactionId"))
    with fake.client() as client:
        client.start_session("usr_1")
        with pytest.raises(Unprocessable):
            client.send_text("int_1", "hello")
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("status", "reason", "scope", "kind"),
    [
        (400, "invalidValue", "entityType", BadRequest),
        (400, "invalidSession", "via-client-sessionid", InvalidSession),
        (400, "missingSession", "via-client-sessionid", InvalidSession),
        (401, "missingApiKey", "x-api-key", Unauthorized),
        (404, "notFound", "interactionId", NotFound),
        (405, "methodNotAllowed", "method", MethodNotAllowed),
        (410, "interactionEnded", "interactionId", Gone),
        (413, "tooLarge", "body", PayloadTooLarge),
        (415, "unsupportedMediaType", "content-type", UnsupportedMediaType),
        (422, "textTooLong", "text", Unprocessable),
        (429, "rateLimited", "x-api-key", RateLimited),
        (500, "internalError", "server", InternalServerError),
        (503, "unavailable", "server", ServiceUnavailable),
    ],
)
def test_every_error_status_maps_to_its_exception_with_the_whole_body(
    status: int, reason: str, scope: str, kind: type[APIError]
) -> None:
    headers = {"retry-after": "3"} if status in (429, 503) else {}
    fake = scripted(error(status, reason, scope, **headers))
    with fake.client(retries=0) as client:
        client.start_session("usr_1")
        with pytest.raises(kind) as caught:
            client.send_text("int_1", "hello")
    exc = caught.value
    assert type(exc) is kind and isinstance(exc, ParleyError)
    assert (exc.status_code, exc.code, exc.message, exc.request_id) == (status, status, "nope", f"req-{status}")
    assert [(e.scope, e.reason) for e in exc.errors] == [(scope, reason)]
    assert exc.reason == reason and exc.response is not None
    assert exc.retry_after == (3 if headers else None)
    assert isinstance(exc, ServerError) == (status >= 500)


def test_an_error_without_the_contract_body_still_maps_by_status() -> None:
    fake = scripted(httpx.Response(502, text="<html>bad gateway</html>"))
    with fake.client(retries=0) as client:
        client.start_session("usr_1")
        with pytest.raises(ServerError) as caught:
            client.send_text("int_1", "hello")
    assert caught.value.status_code == 502 and caught.value.errors == []


def test_a_success_without_the_contract_shape_is_a_decoding_error() -> None:
    fake = FakeServer(lambda r: httpx.Response(200, json={"unexpected": True}))
    with fake.client() as client, pytest.raises(DecodingError):
        client.find_users()
