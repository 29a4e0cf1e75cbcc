"""The Python side of the load: a customer and an agent long-polling, and an open-loop sender.

It runs in its own process on the load core, with a raw HTTP/1.1 client (asyncio + httptools,
keep-alive connections) because a general-purpose client costs more per request than the
server under test. The parent drives it over a pipe:

``("counts",)``               how many ``messaging.Text`` events each poller has received
``("latency", rate, secs)``   send sendText at ``rate`` per second (open loop) for ``secs``
                              and time each message until the customer's poll returns it
``("stop",)``                 end both polls and exit
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection as Pipe
from typing import Any, cast
from urllib.parse import urlsplit

import httptools
import msgspec
import uvloop

from harness import LOAD_CORE, Chat, pin_self, send_text_body

TEXT = "messaging.Text"
TAG = "L"  # the text of a timed message is TAG + its index in nine digits
STOP_TAG = "STOP"


class Payload(msgspec.Struct):
    text: str = ""
    messageId: str = ""


class Event(msgspec.Struct):
    eventType: str
    payload: Payload


class Batch(msgspec.Struct):
    events: list[Event]


decode_batch = msgspec.json.Decoder(Batch).decode


def http_request(method: str, host: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection; one request in flight; each answer goes to ``on_response``."""

    def __init__(self, on_response: Callable[[HttpConnection, int, bytes], None]) -> None:
        self.on_response = on_response
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.current = -1  # which timed message this connection carries
        self._body: list[bytes] = []
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("the server closed the connection"))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self._body)
        self._body.clear()
        self.on_response(self, self.parser.get_status_code(), body)

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def request(self, data: bytes) -> tuple[int, bytes]:
        self._waiter = asyncio.get_running_loop().create_future()
        self.write(data)
        return await self._waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _resolve(conn: HttpConnection, status: int, body: bytes) -> None:
    waiter = conn._waiter
    if waiter is not None and not waiter.done():
        waiter.set_result((status, body))


async def connect(host: str, port: int, on_response: Callable[[HttpConnection, int, bytes], None]) -> HttpConnection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: HttpConnection(on_response), host, port)
    return protocol


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


@dataclass
class _Timing:
    """Nanosecond stamps of each timed message, indexed by its number."""

    scheduled: list[int]
    sent: list[int]
    accepted: list[int]
    delivered: list[int]
    status: list[int]
    statuses: dict[int, int] = field(default_factory=dict)


class LoadClient:
    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        url = urlsplit(chat.base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.hostport = f"{self.host}:{self.port}"
        self.counts = {"customer": 0, "agent": 0, "customer_polls": 0, "agent_polls": 0}
        self.timing: _Timing | None = None
        self.stopping = False
        head = http_request("POST", self.hostport, chat.send_text_path, chat.agent_headers(), b"")
        self._send_head = head.rsplit(b"Content-Length: 0", 1)[0]
        sample = send_text_body(chat.interaction_id, TAG + "0" * 9).encode()
        self._send_head += f"Content-Length: {len(sample)}\r\n\r\n".encode()
        marker = sample.index(TAG.encode() + b"0" * 9)
        self._body_before, self._body_after = sample[:marker], sample[marker + 10 :]

    def send_text_request(self, index: int) -> bytes:
        return self._send_head + self._body_before + f"{TAG}{index:09d}".encode() + self._body_after

    # polls -------------------------------------------------------------------------------------
    async def poll(self, who: str, path: str, headers: dict[str, str]) -> None:
        conn = await connect(self.host, self.port, _resolve)
        request = http_request("GET", self.hostport, path, headers)
        try:
            while True:
                status, body = await conn.request(request)
                now = time.perf_counter_ns()
                if status != 200:
                    raise SystemExit(f"{who} poll failed with {status}: {body[:300]!r}")
                self.counts[f"{who}_polls"] += 1
                for event in decode_batch(body).events:
                    if event.eventType != TEXT:
                        continue
                    text = event.payload.text
                    if text.startswith(STOP_TAG):
                        return
                    self.counts[who] += 1
                    if who == "customer" and self.timing is not None and text.startswith(TAG):
                        self.timing.delivered[int(text[1:10])] = now
        finally:
            conn.close()

    # open-loop sender --------------------------------------------------------------------------
    async def latency(self, rate: float, seconds: float, connections: int = 32) -> dict[str, Any]:
        total = int(rate * seconds)
        timing = _Timing([0] * total, [0] * total, [0] * total, [0] * total, [0] * total)
        backlog: deque[int] = deque()
        # Used in turn, so that none sits idle past the server's keep-alive timeout (5 s).
        free: deque[HttpConnection] = deque()

        def fire(conn: HttpConnection, index: int) -> None:
            conn.current = index
            timing.sent[index] = time.perf_counter_ns()
            conn.write(self.send_text_request(index))

        def answered(conn: HttpConnection, status: int, _body: bytes) -> None:
            timing.accepted[conn.current] = time.perf_counter_ns()
            timing.status[conn.current] = status
            timing.statuses[status] = timing.statuses.get(status, 0) + 1
            if backlog:
                fire(conn, backlog.popleft())
            else:
                free.append(conn)

        free.extend([await connect(self.host, self.port, answered) for _ in range(connections)])
        pool = list(free)
        self.timing = timing
        interval = 1e9 / rate
        start = time.perf_counter_ns()
        index = 0
        while index < total:
            due = min(total, int((time.perf_counter_ns() - start) / interval) + 1)
            while index < due:
                timing.scheduled[index] = start + int(index * interval)
                if free:
                    fire(free.popleft(), index)
                else:
                    backlog.append(index)
                index += 1
            await asyncio.sleep(0.0002)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            accepted = sum(timing.statuses.values())
            if accepted == total and sum(1 for t in timing.delivered if t) >= timing.statuses.get(202, 0):
                break
            await asyncio.sleep(0.01)
        for conn in pool:
            conn.close()
        self.timing = None
        return _latency_report(timing, rate, seconds, time.perf_counter_ns() - start)

    async def stop(self) -> None:
        self.stopping = True
        conn = await connect(self.host, self.port, _resolve)
        body = send_text_body(self.chat.interaction_id, STOP_TAG).encode()
        status, answer = await conn.request(
            http_request("POST", self.hostport, self.chat.send_text_path, self.chat.agent_headers(), body)
        )
        conn.close()
        if status != 202:
            raise SystemExit(f"the closing sendText failed with {status}: {answer[:300]!r}")


def _latency_report(timing: _Timing, rate: float, seconds: float, elapsed_ns: int) -> dict[str, Any]:
    ok = [i for i, status in enumerate(timing.status) if status == 202]
    delivered = [i for i in ok if timing.delivered[i]]
    to_event = sorted((timing.delivered[i] - timing.sent[i]) / 1e6 for i in delivered)
    from_schedule = sorted((timing.delivered[i] - timing.scheduled[i]) / 1e6 for i in delivered)
    to_202 = sorted((timing.accepted[i] - timing.sent[i]) / 1e6 for i in ok)
    lag = sorted((timing.sent[i] - timing.scheduled[i]) / 1e6 for i in ok)
    return {
        "rate": rate,
        "seconds": seconds,
        "elapsed": elapsed_ns / 1e9,
        "sent": len(timing.sent),
        "statuses": timing.statuses,
        "delivered": len(delivered),
        "event_p50": percentile(to_event, 50),
        "event_p99": percentile(to_event, 99),
        "event_max": to_event[-1] if to_event else math.nan,
        "scheduled_event_p50": percentile(from_schedule, 50),
        "scheduled_event_p99": percentile(from_schedule, 99),
        "accepted_p50": percentile(to_202, 50),
        "accepted_p99": percentile(to_202, 99),
        "send_lag_p99": percentile(lag, 99),
    }


def ready_for_commands(pipe: Pipe) -> asyncio.Queue[tuple[Any, ...]]:
    """Tell the parent the load is running; its commands arrive in the queue returned."""
    commands: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    asyncio.get_running_loop().add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    pipe.send(("ready",))
    return commands


async def _serve(chat: Chat, pipe: Pipe) -> None:
    client = LoadClient(chat)
    polls = [
        asyncio.create_task(client.poll("customer", chat.customer_poll_path(), chat.customer_headers())),
        asyncio.create_task(client.poll("agent", chat.agent_poll_path(), chat.agent_headers())),
    ]
    commands = ready_for_commands(pipe)
    while True:
        command = await commands.get()
        if command[0] == "counts":
            pipe.send(dict(client.counts))
        elif command[0] == "latency":
            pipe.send(await client.latency(command[1], command[2]))
        elif command[0] == "stop":
            await client.stop()
            await asyncio.wait_for(asyncio.gather(*polls), 10)
            pipe.send(dict(client.counts))
            return
        for task in polls:
            if task.done():
                task.result()  # a failed poll ends the run with its reason


def run(chat: Chat, pipe: Pipe) -> None:
    """The load process: pinned to the load core, on uvloop."""
    pin_self(LOAD_CORE)
    uvloop.run(_serve(chat, pipe))


@contextmanager
def started(chat: Chat) -> Iterator[Pipe]:
    """The load process, started and polling; yields the pipe that drives it, and ends it."""
    context = multiprocessing.get_context("spawn")
    pipe, child_pipe = context.Pipe()
    process = context.Process(target=run, args=(chat, child_pipe), daemon=True)
    process.start()
    try:
        if not pipe.poll(60) or pipe.recv() != ("ready",):
            raise SystemExit("the load process did not start")
        yield pipe
    finally:
        process.join(5)
        if process.is_alive():
            process.kill()
