"""Every agent and customer session of many chats receiving, in one cheap process on the load core.

Each session receives by one transport: ``poll`` (long poll, the next request written the moment
an answer is read), ``sse`` (one ``text/event-stream`` response, chunked) or ``ws`` (one
WebSocket, frames parsed here: a server's frames are never masked). All of it is callbacks on
uvloop with httptools, no coroutine per event, so that a receiver costs less than the server it
measures. Every ``messaging.Text`` is counted per session and its ``messageId`` kept, so a
second delivery of one message is counted as a duplicate, not as a delivery.

The parent drives it over a pipe: ``("counts",)`` answers with what each session received,
``("stop",)`` closes every connection and ends the process.
"""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import msgspec
import uvloop

from harness import LOAD_CORE, Chat, pin_self
from load import TEXT, Event, decode_batch, http_request, ready_for_commands

TRANSPORTS = ("poll", "sse", "ws")
POLL_QUERY = "?maxEvents=100&timeout=25"


_decode_event = msgspec.json.Decoder(Event).decode


@dataclass(frozen=True)
class Target:
    """One session to receive: whose it is, how, where its events are, the headers that open them."""

    chat: int
    role: str  # "agent" or "customer"
    transport: str  # one of TRANSPORTS
    path: str  # the org's path up to /streaming (customers: .../publicChat/streaming)
    headers: dict[str, str]


def targets(chats: list[Chat], transport: str) -> list[Target]:
    out: list[Target] = []
    for index, chat in enumerate(chats):
        out.append(Target(index, "agent", transport, chat.org_path + "/streaming", chat.agent_headers()))
        customer = chat.org_path + "/publicChat/streaming"
        out.append(Target(index, "customer", transport, customer, chat.customer_headers()))
    return out


class Receiver(asyncio.Protocol):
    """One session's connection; counts the texts it receives."""

    def __init__(self, target: Target, hostport: str, ready: asyncio.Future[None]) -> None:
        self.target = target
        self.hostport = hostport
        self.ready = ready
        self.transport: asyncio.Transport | None = None
        self.texts = 0
        self.duplicates = 0
        self.answers = 0  # poll answers, SSE chunks or WebSocket frames
        self.seen: set[str] = set()
        self.closing = False

    def count(self, event: Event) -> None:
        if event.eventType != TEXT:
            return
        message_id = event.payload.messageId
        if message_id in self.seen:
            self.duplicates += 1
        else:
            self.seen.add(message_id)
            self.texts += 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it
        self.transport.write(self.opening())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closing:
            self.fail(f"the server closed the {self.target.role} connection of chat {self.target.chat}")

    def fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(SystemExit(reason))
        else:
            _FAILURES.append(reason)

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def opening(self) -> bytes:
        raise NotImplementedError


_FAILURES: list[str] = []


class _HttpReceiver(Receiver):
    def __init__(self, target: Target, hostport: str, ready: asyncio.Future[None]) -> None:
        super().__init__(target, hostport, ready)
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)


class PollReceiver(_HttpReceiver):
    def opening(self) -> bytes:
        self.request = http_request(
            "GET", self.hostport, self.target.path + "/events" + POLL_QUERY, self.target.headers
        )
        if not self.ready.done():
            self.ready.set_result(None)
        return self.request

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        self.body.clear()
        status = self.parser.get_status_code()
        if status != 200:
            self.fail(f"a {self.target.role} poll of chat {self.target.chat} failed with {status}: {body[:200]!r}")
            return
        if self.transport is not None and not self.closing:
            self.transport.write(self.request)
        self.answers += 1
        for event in decode_batch(body).events:
            self.count(event)


class SseReceiver(_HttpReceiver):
    def opening(self) -> bytes:
        return http_request("GET", self.hostport, self.target.path + "/events/stream", self.target.headers)

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if status != 200:
            self.fail(f"the {self.target.role} SSE stream of chat {self.target.chat} got {status}")
        elif not self.ready.done():
            self.ready.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.answers += 1
        self.body.append(body)
        if not body.endswith(b"\n\n"):
            return  # a frame continues in the next chunk
        text = b"".join(self.body)
        self.body.clear()
        for frame in text.split(b"\n\n"):
            data = frame.rfind(b"\ndata: ")
            if data >= 0:
                self.count(_decode_event(frame[data + 7 :]))

    def on_message_complete(self) -> None:
        if not self.closing:
            self.fail(f"the {self.target.role} SSE stream of chat {self.target.chat} ended")


class WsReceiver(Receiver):
    def __init__(self, target: Target, hostport: str, ready: asyncio.Future[None]) -> None:
        super().__init__(target, hostport, ready)
        self.buffer = b""
        self.upgraded = False

    def opening(self) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        headers = {
            **self.target.headers,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": "13",
        }
        return http_request("GET", self.hostport, self.target.path + "/ws", headers)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.fail(f"the {self.target.role} WebSocket of chat {self.target.chat}: {buffer[:300]!r}")
                return
            self.upgraded = True
            if not self.ready.done():
                self.ready.set_result(None)
            buffer = buffer[end + 4 :]
        at = 0
        size = len(buffer)
        while size - at >= 2:
            opcode = buffer[at] & 0x0F
            length = buffer[at + 1] & 0x7F
            head = 2
            if length == 126:
                if size - at < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, at + 2)
                head = 4
            elif length == 127:
                if size - at < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, at + 2)
                head = 10
            if size - at < head + length:
                break
            payload = buffer[at + head : at + head + length]
            at += head + length
            self.frame(opcode, payload)
        self.buffer = buffer[at:]

    def frame(self, opcode: int, payload: bytes) -> None:
        if opcode == 1:
            self.answers += 1
            self.count(_decode_event(payload))
        elif opcode == 9 and self.transport is not None:  # ping: a pong, masked with a zero key
            self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
        elif opcode == 8 and not self.closing:
            self.fail(f"the server closed the {self.target.role} WebSocket of chat {self.target.chat}: {payload!r}")


RECEIVERS: dict[str, type[Receiver]] = {"poll": PollReceiver, "sse": SseReceiver, "ws": WsReceiver}


def ask(pipe: Pipe, *command: Any, timeout: float = 60) -> Any:
    """What the receivers' process answers to ``command``."""
    pipe.send(command)
    if not pipe.poll(timeout):
        raise SystemExit(f"the receivers did not answer {command[0]!r} within {timeout} s")
    return pipe.recv()


def counts(receivers: list[Receiver]) -> dict[str, Any]:
    return {
        "texts": [(r.target.chat, r.target.role, r.texts) for r in receivers],
        "duplicates": sum(r.duplicates for r in receivers),
        "answers": sum(r.answers for r in receivers),
        "failures": list(_FAILURES),
    }


async def _connected(receiver: Receiver, host: str, port: int) -> Receiver:
    await asyncio.get_running_loop().create_connection(lambda: receiver, host, port)
    return receiver


async def _serve(sessions: list[Target], base_url: str, pipe: Pipe) -> None:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    loop = asyncio.get_running_loop()
    receivers: list[Receiver] = []
    waits: list[asyncio.Future[None]] = []
    for target in sessions:
        ready: asyncio.Future[None] = loop.create_future()
        receivers.append(await _connected(RECEIVERS[target.transport](target, f"{host}:{port}", ready), host, port))
        waits.append(ready)
    await asyncio.wait_for(asyncio.gather(*waits), 120)
    commands = ready_for_commands(pipe)
    while True:
        command = await commands.get()
        if command[0] == "counts":
            pipe.send(counts(receivers))
        elif command[0] == "stop":
            for receiver in receivers:
                receiver.close()
            pipe.send(counts(receivers))
            return


def run(sessions: list[Target], base_url: str, pipe: Pipe) -> None:
    pin_self(LOAD_CORE)
    uvloop.run(_serve(sessions, base_url, pipe))


@contextmanager
def started(sessions: list[Target], base_url: str) -> Iterator[Pipe]:
    """The receivers' process, every session connected; yields the pipe that drives it."""
    context = multiprocessing.get_context("spawn")
    pipe, child_pipe = context.Pipe()
    process = context.Process(target=run, args=(sessions, base_url, child_pipe), daemon=True)
    process.start()
    try:
        if not pipe.poll(300) or pipe.recv() != ("ready",):
            raise SystemExit("the receivers did not start")
        yield pipe
    finally:
        if process.is_alive():
            with suppress(OSError):
                pipe.send(("stop",))
            process.join(10)
        if process.is_alive():
            process.kill()
