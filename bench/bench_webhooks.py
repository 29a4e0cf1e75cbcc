"""sendText throughput with one subscribed webhook, as a ratio to the same server with none.

One run measures, on the same server and in the same minute:

1. without a webhook: ``parley serve`` (SQLite, rate limits off) with an accepted web chat, the
   customer and the agent long-polling, under ``wrk -t1 -c64`` on the real sendText endpoint;
2. with one: the organization subscribes a webhook (every event type) whose receiver, a
   process on the load core, answers ``204`` at once; the same wrk load again. The webhook is
   deleted after the round (its undelivered backlog with it), so every round starts alike.

Steps 1 and 2 alternate for ``--rounds`` rounds and the medians are compared (target ≥ 0.7).
The report also says how many deliveries reached the receiver during each round: an
interaction's deliveries go out one after the other (contract 14), so under this load the
receiver sees a steady stream while the rest waits in storage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any, cast

import httptools
import httpx
import uvloop

import load
from bench_send_text import median_run
from harness import (
    LOAD_CORE,
    SERVER_CORE,
    Chat,
    ParleyServer,
    WrkResult,
    free_port,
    hot_path,
    lua_request,
    messages_stored,
    open_chat,
    pin_self,
    pinned,
    ratio,
    require_tools,
    run_wrk,
    send_text_body,
)

TARGET_RATIO = 0.7
ANSWER = b"HTTP/1.1 204 No Content\r\n\r\n"


class _Receiver(asyncio.Protocol):
    """Answers every request 204 at once and counts it."""

    def __init__(self, count: Synchronized[int]) -> None:
        self.count = count
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.transport.write(ANSWER)
        with self.count.get_lock():
            self.count.value += 1


def _receive(port: int, count: Synchronized[int]) -> None:
    pin_self(LOAD_CORE)

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(lambda: _Receiver(count), "127.0.0.1", port)
        await server.serve_forever()

    uvloop.run(serve())


@contextmanager
def receiver() -> Iterator[tuple[str, Synchronized[int]]]:
    """The receiver process on the load core: its URL and its request count."""
    context = multiprocessing.get_context("spawn")
    count = cast("Synchronized[int]", context.Value("q", 0))
    port = free_port()
    process = context.Process(target=_receive, args=(port, count), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"http://127.0.0.1:{port}/", content=b"{}", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise SystemExit("the webhook receiver did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/hooks", count
    finally:
        process.kill()
        process.join(5)


class Subscriptions:
    def __init__(self, chat: Chat) -> None:
        headers = {"Authorization": f"Bearer {chat.access_token}", "x-api-key": chat.api_key}
        self.http = httpx.Client(base_url=chat.base_url + chat.org_path, headers=headers, timeout=30)

    def create(self, url: str) -> str:
        r = self.http.post("/webhooks", json={"url": url, "eventTypes": ["*"]})
        if r.status_code != 201:
            raise SystemExit(f"creating the webhook failed: {r.status_code} {r.text}")
        return str(r.json()["webhookId"])

    def delete(self, webhook_id: str) -> None:
        self.http.delete(f"/webhooks/{webhook_id}").raise_for_status()


def measure(seconds: int, connections: int, rounds: int) -> dict[str, Any]:
    with ParleyServer() as server, receiver() as (url, received):
        server.env["PARLEY_WEBHOOK_ALLOW_PRIVATE"] = "1"  # the receiver is on loopback
        server.start()
        chat = open_chat(server)
        subscriptions = Subscriptions(chat)
        with load.started(chat) as pipe:
            headers = {"Content-Type": "application/json", **chat.agent_headers()}
            script = lua_request("POST", send_text_body(chat.interaction_id, "wrk"), headers)
            target = server.base_url + chat.send_text_path
            plain: list[WrkResult] = []
            hooked: list[WrkResult] = []
            delivered: list[int] = []
            for _ in range(rounds):
                plain.append(run_wrk(target, script, server.pid, seconds, connections))
                webhook_id = subscriptions.create(url)
                before = received.value
                hooked.append(run_wrk(target, script, server.pid, seconds, connections))
                delivered.append(received.value - before)
                subscriptions.delete(webhook_id)
            stored = messages_stored(server, chat.interaction_id)
            pipe.send(("stop",))
            pipe.poll(30)
        subscriptions.http.close()
    without, with_one = median_run(plain), median_run(hooked)
    return {
        "cores": os.cpu_count(),
        "hot_path": hot_path(),
        "pinned": pinned(SERVER_CORE) and pinned(LOAD_CORE),
        "seconds": seconds,
        "connections": connections,
        "rounds": rounds,
        "without": without.__dict__,
        "with_webhook": with_one.__dict__,
        "ratio": ratio(with_one.rps, without.rps),
        "round_ratios": [ratio(h.rps, p.rps) for p, h in zip(plain, hooked, strict=True)],
        "delivered_per_round": delivered,
        "wrk_2xx": sum(r.ok for r in plain + hooked),
        "stored": stored,
    }


def report(result: dict[str, Any]) -> str:
    without, with_one = WrkResult(**result["without"]), WrkResult(**result["with_webhook"])
    pin = "server on core 0, load and receiver on core 1" if result["pinned"] else "NOT pinned"
    seconds = result["seconds"]
    delivered = " ".join(f"{n:,} ({n / seconds:,.0f}/s)" for n in result["delivered_per_round"])
    in_flight = result["connections"] * result["rounds"] * 2
    stored_ok = result["wrk_2xx"] <= result["stored"] <= result["wrk_2xx"] + in_flight
    lines = [
        f"webhook benchmark: {result['cores']} cores, {pin}; wrk -t1 -c{result['connections']} -d{seconds}s; "
        f"{result['rounds']} alternating rounds, median runs shown",
        f"Parley's hot path: {result['hot_path']}",
        "",
        f"  {'':<40}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}",
    ]
    for name, r in (("sendText, no webhook", without), ("sendText, one webhook (204 at once)", with_one)):
        lines.append(f"  {name:<40}{r.rps:>10,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.server_cpu_us:>12.1f}")
    verdict = "met" if result["ratio"] >= TARGET_RATIO else "MISSED"
    lines += [
        "",
        f"  ratio {result['ratio']:.3f}  (target ≥ {TARGET_RATIO}: {verdict}); "
        f"each round: {' '.join(f'{r:.2f}' for r in result['round_ratios'])}",
        f"  non-2xx {without.non_2xx + with_one.non_2xx}, "
        f"socket errors {without.socket_errors + with_one.socket_errors}",
        f"  deliveries received during each webhook round: {delivered}",
        f"  messages committed {result['stored']:,} = wrk's 202s {result['wrk_2xx']:,} + at most the in-flight "
        f"{in_flight}: {'yes' if stored_ok else 'NO'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds without/with (default 3)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    require_tools()
    result = measure(args.seconds, args.connections, max(1, args.rounds))
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
