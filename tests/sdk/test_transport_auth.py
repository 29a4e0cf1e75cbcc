"""OAuth2 client credentials as an httpx auth flow, against a scripted transport."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import parse_qs

import httpx
import pytest

from parley_client import ClientCredentials, Unauthorized
from tests.sdk.fakes import URL, FakeServer, error

PAGE = {"totalItems": 0, "users": []}


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=PAGE)


def test_token_is_fetched_once_with_http_basic_and_reused() -> None:
    fake = FakeServer(ok)
    with fake.client() as client:
        client.find_users()
        client.find_users(email="a@b.example")
    assert fake.tokens_issued == 1
    call = fake.token_calls[0]
    assert call.method == "POST" and call.url.params["realm"] == "acme"
    assert call.headers["authorization"] == "Basic " + base64.b64encode(b"cid:s3cret").decode()
    assert parse_qs(call.content.decode()) == {"grant_type": ["client_credentials"]}
    assert fake.bearers == ["Bearer tok-1", "Bearer tok-1"]
    assert all(r.headers["x-api-key"] == "key-1" for r in fake.requests)


def test_a_401_blaming_the_token_fetches_a_new_one_and_repeats_the_request_once() -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer tok-1":
            return error(401, "invalidToken", "authorization")
        return ok(request)

    fake = FakeServer(api)
    with fake.client() as client:
        assert client.find_users().total_items == 0
    assert fake.tokens_issued == 2
    assert fake.bearers == ["Bearer tok-1", "Bearer tok-2"]


def test_a_second_401_is_raised_instead_of_refreshing_again() -> None:
    fake = FakeServer(lambda r: error(401, "invalidToken", "authorization"))
    with fake.client() as client, pytest.raises(Unauthorized) as caught:
        client.find_users()
    assert fake.tokens_issued == 2 and len(fake.requests) == 2
    assert caught.value.reason == "invalidToken"
    assert caught.value.request_id == "req-401"


def test_a_401_about_the_api_key_keeps_the_token() -> None:
    fake = FakeServer(lambda r: error(401, "invalidApiKey", "x-api-key"))
    with fake.client() as client, pytest.raises(Unauthorized) as caught:
        client.find_users()
    assert caught.value.errors[0].scope == "x-api-key"
    assert fake.tokens_issued == 1 and len(fake.requests) == 1


def test_the_token_is_replaced_shortly_before_it_expires() -> None:
    now = [1000.0]
    fake = FakeServer(ok, expires_in=600)
    auth = ClientCredentials(URL, "acme", "cid", "s3cret", refresh_margin=30, clock=lambda: now[0])
    with fake.client(auth=auth) as client:
        client.find_users()
        now[0] += 600 - 31
        client.find_users()
        now[0] += 2
        client.find_users()
    assert fake.bearers == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_a_refused_client_is_unauthorized_with_the_token_service_reason() -> None:
    refusal = httpx.Response(401, json={"error": "invalid_client", "error_description": "unknown client"})
    fake = FakeServer(ok, token_error=refusal)
    with fake.client() as client, pytest.raises(Unauthorized) as caught:
        client.find_users()
    assert caught.value.reason == "invalid_client"
    assert fake.requests == []


async def test_concurrent_async_requests_share_one_token_fetch_and_one_refresh() -> None:
    refused: set[str] = set()

    def api(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"]
        if token == "Bearer tok-1":
            refused.add(token)
            return error(401, "invalidToken", "authorization")
        return ok(request)

    fake = FakeServer(api)
    async with fake.async_client() as client:
        pages = await asyncio.gather(*(client.find_users() for _ in range(5)))
    assert [p.total_items for p in pages] == [0] * 5
    assert fake.tokens_issued == 2
    assert refused == {"Bearer tok-1"}
