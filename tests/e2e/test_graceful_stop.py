"""SIGTERM ends every open stream cleanly and the process exits quickly (contract 11, rolling restart)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.server import Org, start_server

STOP_LIMIT_SECONDS = 10


def test_sigterm_answers_long_polls_ends_sse_and_websockets_and_exits_within_ten_seconds(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", {"PARLEY_LOG_LEVEL": "info"})
    try:
        creds = server.bootstrap("acme")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        user = org.create_user("Ada", "Stop")
        poller, streamer, socket_reader = org.agent(user), org.agent(user), org.agent(user)
        poll: dict[str, Any] = {}
        sse_lines: list[str] = []
        close_code: list[int | None] = []

        def long_poll() -> None:
            started = time.monotonic()
            r = org.http.get(
                org.base + "/streaming/events",
                params={"maxEvents": 10, "timeout": 55},
                headers=org.headers(poller.session_id),
            )
            poll.update(status=r.status_code, body=r.json(), elapsed=time.monotonic() - started)

        def sse() -> None:
            url = org.base + "/streaming/events/stream"
            with (
                httpx.Client(base_url=server.base_url, timeout=30) as http,
                http.stream("GET", url, headers=org.headers(streamer.session_id)) as r,
            ):
                sse_lines.extend(r.iter_lines())  # ends only when the server ends the stream

        def websocket() -> None:
            url = server.base_url.replace("http://", "ws://") + org.base + "/streaming/ws"
            with connect(url, additional_headers=org.headers(socket_reader.session_id)) as ws:
                try:
                    while True:
                        ws.recv(timeout=30)
                except ConnectionClosed as closed:
                    close_code.append(closed.rcvd.code if closed.rcvd else None)

        threads = [threading.Thread(target=work) for work in (long_poll, sse, websocket)]
        for thread in threads:
            thread.start()
        time.sleep(1)  # every stream is open and waiting
        stop_began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(STOP_LIMIT_SECONDS + 5)
        took = time.monotonic() - stop_began
        for thread in threads:
            thread.join(10)
        org.http.close()
    finally:
        server.stop()

    log = server.log()
    assert took < STOP_LIMIT_SECONDS, log
    assert took < 3, f"the stop waited on open streams ({took:.1f} s)"
    assert poll["status"] == 200 and poll["body"]["events"] == [] and poll["elapsed"] < 5, poll
    assert sse_lines[-2:] == ["retry: 1000", ""], sse_lines
    assert close_code == [1012]
    assert "Cancel" not in log and "ERROR" not in log, log
