"""The HTTP layer on its own: routing errors, limits and the generic 500, served as in production
(``HttpConnection`` on a real socket)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from parley.api.app import ParleyASGI
from parley.api.http import Request, Response, Route, Router
from tests.integration.api.live import serving


async def boom(request: Request) -> Response:
    raise RuntimeError("database password is hunter2")


async def echo(request: Request) -> Response:
    return Response.json({"params": request.path_params, "size": len(request.body), "query": request.query})


def app() -> ParleyASGI:
    router = Router()
    router.add(Route("GET", "/boom", boom, "fails", "Test"))
    router.add(Route("POST", "/items/{itemId}", echo, "echo", "Test"))
    router.add(Route("GET", "/items/{itemId}", echo, "echo", "Test"))
    return ParleyASGI(router, max_body_bytes=1024)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app()) as base_url:
        yield httpx.AsyncClient(base_url=base_url)


async def test_unexpected_error_is_a_500_that_leaks_nothing_and_is_logged(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="parley.api"):
        r = await client.get("/boom")
    assert r.status_code == 500
    assert "hunter2" not in r.text and "RuntimeError" not in r.text
    request_id = r.headers["x-request-id"]
    assert r.json()["errors"][0]["reason"] == "internalError"
    assert request_id in r.json()["errors"][0]["message"]
    assert any(request_id in rec.getMessage() for rec in caplog.records)
    await client.aclose()


async def test_path_parameters_and_query_reach_the_handler(client: httpx.AsyncClient) -> None:
    r = await client.get("/items/42?x=1&y=")
    assert r.json() == {"params": {"itemId": "42"}, "size": 0, "query": {"x": "1", "y": ""}}
    await client.aclose()


async def test_unknown_path_and_wrong_method(client: httpx.AsyncClient) -> None:
    r = await client.get("/nothing")
    assert r.status_code == 404 and r.json()["code"] == 404
    r = await client.delete("/items/1")
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    await client.aclose()


async def test_body_limit_is_enforced_with_and_without_content_length(client: httpx.AsyncClient) -> None:
    assert (await client.post("/items/1", content=b"x" * 1024)).json()["size"] == 1024
    r = await client.post("/items/1", content=b"x" * 1025)
    assert r.status_code == 413 and r.json()["errors"][0]["reason"] == "bodyTooLarge"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 500

    r = await client.post("/items/1", content=chunks())
    assert r.status_code == 413
    await client.aclose()


async def test_head_is_answered_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    r = await client.head("/items/7")
    assert r.status_code == 200 and r.content == b""
    await client.aclose()


async def test_a_long_poll_whose_client_goes_away_is_stopped_without_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stopped = asyncio.Event()

    async def wait_forever(request: Request) -> Response:
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return Response(200)

    router = Router()
    router.add(Route("GET", "/poll", wait_forever, "poll", "Test", long_poll=True))
    with caplog.at_level(logging.ERROR):
        async with serving(ParleyASGI(router, max_body_bytes=1024)) as base_url, asyncio.timeout(5):
            host, port = base_url.removeprefix("http://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /poll HTTP/1.1\r\nhost: test\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)  # the poll is waiting
            writer.write_eof()  # the client goes away
            sent = await reader.read()
            writer.close()
            await stopped.wait()
    assert stopped.is_set()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert b" 500 " not in sent
