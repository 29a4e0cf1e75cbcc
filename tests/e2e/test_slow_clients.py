"""Clients that send slowly or never read: raw sockets against a server with short bounds."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, running_server
from tests.e2e.test_http_connection import ask, closed_by_server, connect, read_response

BOUND_SECONDS = 1.0  # head and body timeouts of this module's server
SEND_SECONDS = 4.0  # its send timeout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    bound = str(BOUND_SECONDS)
    env = {
        "PARLEY_REQUEST_HEAD_TIMEOUT_SECONDS": bound,
        "PARLEY_REQUEST_BODY_TIMEOUT_SECONDS": bound,
        "PARLEY_SEND_TIMEOUT_SECONDS": str(SEND_SECONDS),
    }
    with running_server(tmp_path_factory.mktemp("slow"), env) as s:
        yield s


def resident_bytes(server: ServerProcess) -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for the server process")


def assert_timed_out(sock: socket.socket, part: str) -> None:
    started = time.monotonic()
    status, headers, body = read_response(sock, bytearray())
    assert status == "HTTP/1.1 408 Request Timeout"
    assert headers["connection"] == "close"
    error = json.loads(body)
    assert error["errors"][0]["reason"] == "requestTimeout"
    assert part in error["errors"][0]["message"]
    assert closed_by_server(sock, within=2)
    assert time.monotonic() - started < BOUND_SECONDS + 2


def test_a_head_that_stops_arriving_is_answered_408_and_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert_timed_out(sock, "headers")


def trickle(sock: socket.socket, data: bytes, every: float) -> None:
    """Send ``data`` a byte every ``every`` seconds until it is all sent or the server answers."""
    for byte in data:
        sock.sendall(bytes([byte]))
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            return


def test_a_head_sent_a_byte_at_a_time_must_still_end_within_the_bound(server: ServerProcess) -> None:
    with connect(server) as sock:
        trickle(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 100, every=0.1)
        assert_timed_out(sock, "headers")


def test_a_body_that_stops_arriving_is_answered_408_and_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /tokenservice/oauth2/access_token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\ngrant_type="
        )
        assert_timed_out(sock, "body")


def test_requests_within_the_bounds_are_served_on_a_kept_connection(server: ServerProcess) -> None:
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            time.sleep(BOUND_SECONDS / 3)
            status, _, _ = ask(sock, b"Host: x\r\n\r\n")
            assert status == "HTTP/1.1 200 OK"
            time.sleep(BOUND_SECONDS)  # idle between requests is the keep-alive time's, not a read bound


def test_a_client_that_pipelines_and_never_reads_holds_a_bounded_buffer(server: ServerProcess) -> None:
    requests = 1000
    with connect(server) as warm:
        _, _, document = ask(warm, b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
    before = resident_bytes(server)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = server.base_url.removeprefix("http://").split(":")
        sock.connect((host, int(port)))
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * requests)
        # long enough to answer them all into a buffer, as the server once did; shorter than the
        # send timeout, so the client is still served when it starts reading
        time.sleep(SEND_SECONDS / 3)
        grown = resident_bytes(server) - before
        # unbounded, the answers would take len(document) * requests (about 60 MB)
        assert grown < 10 * 1024 * 1024, f"the server grew by {grown / 1e6:.1f} MB"
        # it answers all of them once the client reads, in order
        sock.settimeout(10)
        buffered = bytearray()
        for _ in range(requests):
            status, _, body = read_response(sock, buffered)
            assert status == "HTTP/1.1 200 OK"
            assert len(body) == len(document)


def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(server: ServerProcess) -> None:
    requests = 200
    with connect(server) as warm:
        _, _, document = ask(warm, b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        host, port = server.base_url.removeprefix("http://").split(":")
        sock.connect((host, int(port)))
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * requests)
        time.sleep(SEND_SECONDS * 2)  # twice the send timeout: a loaded machine is slow to fill the buffers
        sock.settimeout(5)
        received = 0
        try:
            while chunk := sock.recv(65536):
                received += len(chunk)
        except ConnectionResetError:
            pass
        # it was dropped with most answers unsent (kept, it would send them all, then idle out)
        assert received < requests * len(document) / 2
