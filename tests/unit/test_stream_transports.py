"""The WebSocket and Server-Sent Events loops over a streaming session (contract 4)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import pytest

from parley.api.routes.common import refusal
from parley.domain.errors import InvalidRequest
from parley.service.ports import StreamSession
from parley.streaming.sse import event_stream, parse_last_event_id
from parley.streaming.websocket import WebSocketStream
from tests.unit.world import World


class FakeSocket:
    """The ASGI side of one WebSocket: frames the client sends, and what the server sent back."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.incoming.put_nowait({"type": "websocket.connect"})
        self.sent: list[MutableMapping[str, Any]] = []
        self.on_frame: list[Any] = []

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "websocket.send":
            for hook in self.on_frame:
                await hook(self.sequence_numbers())

    def client_says(self, frame: dict[str, Any]) -> None:
        self.incoming.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    def sequence_numbers(self) -> list[int]:
        return [json.loads(m["text"])["sequenceNumber"] for m in self.sent if m["type"] == "websocket.send"]


def stream_over(world: World, session: StreamSession, socket: FakeSocket) -> WebSocketStream:
    async def authorize(headers: dict[str, str]) -> StreamSession:
        return session

    scope = {"type": "websocket", "headers": [(b"authorization", b"Bearer t")]}
    return WebSocketStream(world.parley.streaming, authorize, scope, socket.receive, socket.send, refusal)


async def publish(world: World, session: StreamSession, count: int) -> None:
    for n in range(count):
        await world.parley.engine.publish(world.org_id, [session.owner], "test.Numbered", {"n": n})


async def test_a_resume_request_arriving_mid_batch_replays_from_the_asked_point(world: World) -> None:
    session = await world.session(await world.user("Ada"))
    await publish(world, session, 5)
    socket = FakeSocket()

    async def resume_once_two_were_sent(seen: list[int]) -> None:
        if seen == [1, 2]:
            socket.client_says({"resumeAfter": 0})
            for _ in range(3):
                await asyncio.sleep(0)  # let the reader take the frame while the batch is still going out
        if len(seen) == 7:
            socket.incoming.put_nowait({"type": "websocket.disconnect"})

    socket.on_frame.append(resume_once_two_were_sent)
    async with asyncio.timeout(5):
        await stream_over(world, session, socket).run()
    assert socket.sequence_numbers() == [1, 2, 1, 2, 3, 4, 5]


async def test_a_websocket_stream_closes_with_service_restart_when_the_server_stops(world: World) -> None:
    session = await world.session(await world.user("Ada"))
    socket = FakeSocket()
    running = asyncio.create_task(stream_over(world, session, socket).run())
    await asyncio.sleep(0.05)
    world.parley.streaming.drain()
    async with asyncio.timeout(5):
        await running
    assert socket.sent[-1] == {
        "type": "websocket.close",
        "code": 1012,
        "reason": "the server is restarting; reconnect and resume",
    }


async def test_a_server_sent_event_stream_ends_when_the_server_stops(world: World) -> None:
    session = await world.session(await world.user("Ada"))
    await publish(world, session, 1)
    frames: list[bytes] = []
    async with asyncio.timeout(5):
        async for frame in event_stream(world.parley.streaming, session, None, keep_alive=0.05):
            frames.append(frame)
            if b"test.Numbered" in frame:
                world.parley.streaming.drain()
    assert frames[0].startswith(b"retry:")
    assert frames[2:] == [b"retry: 1000\n\n"]  # what it held, then "reconnect in a second"


async def test_frames_the_server_cannot_use_are_ignored_and_the_stream_goes_on(world: World) -> None:
    session = await world.session(await world.user("Ada"))
    await publish(world, session, 2)
    socket = FakeSocket()
    for text in ("[" * 5000, "not json", '{"resumeAfter": -1}', '{"resumeAfter": true}', '{"acknowledge": 1e400}'):
        socket.incoming.put_nowait({"type": "websocket.receive", "text": text})

    async def replay_once(seen: list[int]) -> None:
        if seen == [1, 2]:
            socket.client_says({"resumeAfter": 1})
        if len(seen) == 3:
            socket.incoming.put_nowait({"type": "websocket.disconnect"})

    socket.on_frame.append(replay_once)
    async with asyncio.timeout(5):
        await stream_over(world, session, socket).run()
    assert socket.sequence_numbers() == [1, 2, 2]


@pytest.mark.parametrize("raw", ["-1", "1.5", "٣", "9" * 16, "abc"])
def test_a_last_event_id_that_is_no_sequence_number_is_a_clear_400(raw: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_last_event_id(raw)
    assert caught.value.problems[0].scope == "last-event-id"


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("", None), (" 42 ", 42), ("0", 0)])
def test_a_last_event_id_names_where_to_resume(raw: str | None, expected: int | None) -> None:
    assert parse_last_event_id(raw) == expected
