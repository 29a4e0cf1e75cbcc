"""HTTP/1.1 on the wire, as ``parley serve`` speaks it: raw sockets, no client library smoothing."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import ServerProcess, running_server

KEEP_ALIVE_SECONDS = 5  # uvicorn's default, which ``parley serve`` keeps


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data: Path = tmp_path_factory.mktemp("wire")
    env = {"PARLEY_ACCESS_LOG": "1", "PARLEY_LOG_LEVEL": "info"}
    with running_server(data, env) as s:
        yield s


def connect(server: ServerProcess) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_response(sock: socket.socket, buffered: bytearray) -> tuple[str, dict[str, str], bytes]:
    """One response off the socket (status line, headers, body by content-length)."""
    while b"\r\n\r\n" not in buffered:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a whole response; got {bytes(buffered)!r}")
        buffered += chunk
    head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    buffered[:] = rest[length:]
    return lines[0], headers, rest[:length]


def closed_by_server(sock: socket.socket, within: float = 5.0) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def ask(sock: socket.socket, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send one request and read its answer."""
    sock.sendall(request)
    return read_response(sock, bytearray())


def assert_answered_then_closed(sock: socket.socket, headers: dict[str, str]) -> None:
    assert headers["connection"] == "close"
    assert closed_by_server(sock)


def test_pipelined_requests_are_answered_in_order_on_one_connection(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        buffered = bytearray()
        statuses = [read_response(sock, buffered)[0] for _ in range(3)]
        assert statuses == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"]


def test_every_response_carries_a_date_and_a_length(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, headers, body = ask(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"
        assert headers["date"].endswith("GMT")
        assert int(headers["content-length"]) == len(body) > 0
        assert "server" not in headers


def test_head_answers_the_length_without_the_body(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"HEAD /openapi.json HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        buffered = bytearray()
        sock.settimeout(10)
        while buffered.count(b"\r\n\r\n") < 2:
            buffered += sock.recv(65536)
        head, _, rest = bytes(buffered).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 ")
        assert b"content-length: " in head
        # the next bytes are the second response, not a body of the first
        assert rest.startswith(b"HTTP/1.1 200 OK")


def test_expect_100_continue_is_answered_before_the_body(server: ServerProcess) -> None:
    with connect(server) as sock:
        body = b'{"grant_type": "client_credentials"}'
        sock.sendall(
            b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        sock.settimeout(5)
        assert sock.recv(25) == b"HTTP/1.1 100 Continue\r\n\r\n"
        status, _, answer = ask(sock, body)
        assert status.startswith("HTTP/1.1 4")  # no credentials: refused, in the contract's error body
        assert json.loads(answer)["errors"]


def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, headers, body = ask(
            sock,
            b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000\r\nExpect: 100-continue\r\n\r\n",
        )
        assert status == "HTTP/1.1 413 Request Entity Too Large"
        assert headers["connection"] == "close"
        assert json.loads(body)["errors"][0]["reason"] == "bodyTooLarge"
        assert closed_by_server(sock)


def test_a_chunked_body_that_grows_over_the_limit_is_refused(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 16384
        try:
            for _ in range(8):
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close while the rest is still on its way
        status, _, body = read_response(sock, bytearray())
        assert status == "HTTP/1.1 413 Request Entity Too Large"
        assert json.loads(body)["errors"][0]["reason"] == "bodyTooLarge"


def test_what_is_not_http_gets_the_contract_error_body_and_a_closed_connection(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, _, body = ask(sock, b"HELLO THERE\r\n\r\n")
        assert status == "HTTP/1.1 400 Bad Request"
        error = json.loads(body)
        assert error["code"] == 400
        assert error["errors"][0]["reason"] == "malformedRequest"
        assert closed_by_server(sock)


def test_headers_over_64_kib_are_refused(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, _, body = ask(sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n")
        assert status == "HTTP/1.1 400 Bad Request"
        assert "64 KiB" in json.loads(body)["errors"][0]["message"]


def test_a_url_that_is_not_ascii_is_a_400_not_a_500(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, _, body = ask(sock, b"GET /h\xc3\xa9althz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status in ("HTTP/1.1 400 Bad Request", "HTTP/1.1 404 Not Found")
        assert json.loads(body)["errors"]


def test_connection_close_and_http_1_0_end_the_connection_after_the_answer(server: ServerProcess) -> None:
    for request in (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /healthz HTTP/1.0\r\n\r\n",
    ):
        with connect(server) as sock:
            status, headers, _ = ask(sock, request)
            assert status == "HTTP/1.1 200 OK"
            assert_answered_then_closed(sock, headers)


def test_a_preflight_204_has_no_content_length(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, headers, _ = ask(
            sock,
            b"OPTIONS /via/v2/organizations/anyorg/publicChat/messaging/sendText HTTP/1.1\r\nHost: x\r\n"
            b"Origin: https://shop.example\r\nAccess-Control-Request-Method: POST\r\n\r\n",
        )
        assert status == "HTTP/1.1 204 No Content"
        assert "content-length" not in headers
        assert headers["access-control-allow-origin"] == "*"


def test_an_idle_connection_is_closed_after_the_keep_alive_time(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        read_response(sock, bytearray())
        started = time.monotonic()
        assert closed_by_server(sock, within=KEEP_ALIVE_SECONDS + 3)
        assert time.monotonic() - started >= KEEP_ALIVE_SECONDS - 0.5


def test_a_trusted_proxy_names_the_client(server: ServerProcess) -> None:
    # The test connects from 127.0.0.1, a trusted proxy by default.
    with connect(server) as sock:
        sock.sendall(
            b"GET /healthz?from=forwarded-test HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.7, 127.0.0.1\r\n\r\n"
        )
        read_response(sock, bytearray())
    deadline = time.monotonic() + 5
    while "forwarded-test" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    line = next(x for x in server.log().splitlines() if "forwarded-test" in x)
    assert "198.51.100.7 - " in line


def test_a_request_that_arrives_slowly_is_not_cut_off_by_the_keep_alive_time(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        time.sleep(KEEP_ALIVE_SECONDS + 1)
        status, _, _ = ask(sock, b"\r\n")
        assert status == "HTTP/1.1 200 OK"


def test_an_idle_keep_alive_connection_does_not_hold_up_a_stop(tmp_path: Path) -> None:
    with running_server(tmp_path / "data") as server, connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        read_response(sock, bytearray())
        started = time.monotonic()
        server.stop()
        # uvicorn would wait its 5 s of grace for a connection's task that never ended
        assert time.monotonic() - started < 3


def test_absolute_form_targets_and_fragments_reach_the_same_endpoint(server: ServerProcess) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"GET http://example.com/healthz HTTP/1.1\r\nHost: example.com\r\n\r\n"
            b"GET /healthz#top HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /heal%74hz?x=1#top HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        buffered = bytearray()
        assert [read_response(sock, buffered)[0] for _ in range(3)] == ["HTTP/1.1 200 OK"] * 3


def test_http_1_0_asking_to_keep_alive_is_still_closed_after_the_answer(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, headers, _ = ask(sock, b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        assert status == "HTTP/1.1 200 OK"
        assert_answered_then_closed(sock, headers)


def test_an_upgrade_other_than_websocket_is_answered_as_http_then_closed(server: ServerProcess) -> None:
    with connect(server) as sock:
        status, headers, _ = ask(
            sock, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n"
        )
        assert status == "HTTP/1.1 200 OK"
        assert_answered_then_closed(sock, headers)


@pytest.mark.parametrize(
    "transfer_encoding",
    [
        b"Transfer-Encoding: identity, chunked\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        b"Transfer-Encoding: , chunked\r\n",
        b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: identity\r\n",
        b"Transfer-Encoding: chunked, identity\r\n",
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
    ],
    ids=[
        "identity-chunked",
        "gzip-chunked",
        "empty-chunked",
        "two-headers",
        "chunked-twice",
        "identity",
        "chunked-identity",
        "with-length",
    ],
)
def test_a_transfer_encoding_other_than_chunked_alone_is_refused(
    server: ServerProcess, transfer_encoding: bytes
) -> None:
    # A proxy in front that frames such a body otherwise would let a second request through
    # inside this one's body (request smuggling, RFC 9112 6.1 and 11.2).
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    with connect(server) as sock:
        status, headers, body = ask(
            sock,
            b"POST /tokenservice/oauth2/access_token HTTP/1.1\r\nHost: x\r\n" + transfer_encoding + b"\r\n"
            b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n",
        )
        assert status == "HTTP/1.1 400 Bad Request"
        assert json.loads(body)["errors"][0]["reason"] == "malformedRequest"
        assert_answered_then_closed(sock, headers)


@pytest.mark.parametrize("spelling", [b"chunked", b"Chunked", b"CHUNKED "])
def test_chunked_alone_is_read_as_the_body_in_any_case(server: ServerProcess, spelling: bytes) -> None:
    form = b"grant_type=client_credentials"
    with connect(server) as sock:
        status, _, body = ask(
            sock,
            b"POST /tokenservice/oauth2/access_token HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: " + spelling + b"\r\n\r\n"
            b"%x\r\n" % len(form) + form + b"\r\n0\r\n\r\n",
        )
        # the form was read: the refusal is about the missing realm, not the framing
        assert status == "HTTP/1.1 400 Bad Request"
        assert json.loads(body)["error"] == "invalid_request"
