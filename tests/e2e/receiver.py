"""A real webhook receiver on loopback: records every request and answers as a test tells it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        decoded: dict[str, Any] = msgspec.json.decode(self.body)
        return decoded


# Given the request's number (1, 2, ...) and what came: (status, seconds to wait before answering).
Plan = Callable[[int, Received], tuple[int, float]]


class Receiver:
    def __init__(self, plan: Plan | None = None) -> None:
        self.plan: Plan = plan or (lambda _n, _r: (204, 0.0))
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def take(self, received: Received) -> tuple[int, float]:
        with self._lock:
            self.received.append(received)
            number = len(self.received)
        return self.plan(number, received)

    def ids(self) -> list[str]:
        with self._lock:
            return [r.headers["webhook-id"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"the receiver got {len(self.received)} requests, not {count}, within {timeout} s")


@contextmanager
def running_receiver(plan: Plan | None = None) -> Iterator[Receiver]:
    receiver = Receiver(plan)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status, delay = receiver.take(Received({k.lower(): v for k, v in self.headers.items()}, body))
            if delay:
                time.sleep(delay)
            try:
                body = b"" if status in (204, 304) else b"ok"
                self.send_response(status)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
