"""Durable sendText with its event delivered to a polling customer, against the bare-ASGI ceiling.

One run measures, on the same machine and in the same minute:

1. the ceiling: ``baseline_asgi.py`` under ``wrk -t1 -c64 -d10s`` with a 142-byte SendText body;
2. Parley: ``parley serve`` (SQLite, rate limits off) with an accepted web chat, the customer and
   the agent long-polling, under the same wrk load on the real sendText endpoint; every 202 must
   reach the customer as a ``messaging.Text`` event;

   steps 1 and 2 alternate for ``--rounds`` rounds (both servers stay up), and the medians are
   reported, so that a slow minute on a shared machine weighs on both sides alike;
3. latency: at half of Parley's measured rate, open loop, the time from writing a sendText
   request to the customer's poll returning its event.

It prints ratios to the ceiling (targets from ``performance.md``: ≥ 0.6; p50 ≤ 2 ms, p99 ≤ 5 ms).
Absolute numbers vary by about ±15% between runs; compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import load
from harness import (
    LOAD_CORE,
    SERVER_CORE,
    Ceiling,
    Chat,
    ParleyServer,
    WrkResult,
    hot_path,
    lua_request,
    messages_stored,
    open_chat,
    pinned,
    ratio,
    require_tools,
    run_wrk,
    send_text_body,
)

TARGET_RATIO = 0.6
TARGET_P50_MS = 2.0
TARGET_P99_MS = 5.0


def _ask(pipe: Pipe, *command: Any, timeout: float = 60) -> Any:
    pipe.send(command)
    if not pipe.poll(timeout):
        raise SystemExit(f"the load process did not answer {command[0]!r} within {timeout} s")
    return pipe.recv()


def _settled(pipe: Pipe, server: ParleyServer, interaction_id: str, limit: float = 10.0) -> tuple[int, dict[str, int]]:
    """Committed messages and events received, once both have stopped moving after the load."""
    deadline = time.monotonic() + limit
    last: tuple[int, dict[str, int]] = (-1, {})
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = (messages_stored(server, interaction_id), _ask(pipe, "counts"))
        if now == last and now[1]["customer"] >= now[0]:
            break
        last = now
    return last


def median_run(runs: list[WrkResult]) -> WrkResult:
    """The run with the median rate (an actual run, so its latency and CPU belong together)."""
    return sorted(runs, key=lambda r: r.rps)[len(runs) // 2]


def measure(
    seconds: int,
    latency_seconds: float,
    connections: int,
    latency_rate: float | None = None,
    rounds: int = 3,
    metrics: str = "on",
) -> dict[str, Any]:
    with ParleyServer({"PARLEY_METRICS": metrics}) as server, Ceiling() as bare:
        server.start()
        chat: Chat = open_chat(server)
        with load.started(chat) as pipe:
            headers = {"Content-Type": "application/json", **chat.agent_headers()}
            script = lua_request("POST", send_text_body(chat.interaction_id, "wrk"), headers)
            ceilings: list[WrkResult] = []
            parleys: list[WrkResult] = []
            for _ in range(rounds):
                ceilings.append(bare.run(seconds))
                parleys.append(run_wrk(server.base_url + chat.send_text_path, script, server.pid, seconds, connections))
            ceiling, parley = median_run(ceilings), median_run(parleys)
            stored, counts = _settled(pipe, server, chat.interaction_id)
            rate = latency_rate or parley.rps / 2
            latency = _ask(pipe, "latency", rate, latency_seconds, timeout=latency_seconds + 60)
            _ask(pipe, "stop")
    return {
        "cores": os.cpu_count(),
        "hot_path": hot_path(),
        "metrics": metrics,
        "pinned": pinned(SERVER_CORE) and pinned(LOAD_CORE),
        "seconds": seconds,
        "connections": connections,
        "rounds": rounds,
        "ceiling": ceiling.__dict__,
        "parley": parley.__dict__,
        "ratio": ratio(parley.rps, ceiling.rps),
        "round_ratios": [ratio(p.rps, c.rps) for c, p in zip(ceilings, parleys, strict=True)],
        "delivery": {"wrk_2xx": sum(p.ok for p in parleys), "stored": stored, **counts},
        "latency": latency,
        "latency_rate": latency_rate,
    }


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _row(name: str, r: WrkResult, ceiling: WrkResult) -> str:
    return (
        f"  {name:<38}{r.rps:>10,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.server_cpu_us:>12.1f}"
        f"{ratio(r.rps, ceiling.rps):>11.2f}"
    )


def report(result: dict[str, Any]) -> str:
    ceiling, parley = WrkResult(**result["ceiling"]), WrkResult(**result["parley"])
    d, lat = result["delivery"], result["latency"]
    pin = "server on core 0, load on core 1" if result["pinned"] else "NOT pinned"
    delivered_all = d["customer"] == d["stored"] and d["agent"] == d["stored"]
    in_flight = result["connections"] * result["rounds"]
    acked_stored = d["wrk_2xx"] <= d["stored"] <= d["wrk_2xx"] + in_flight
    round_ratios = " ".join(f"{r:.2f}" for r in result["round_ratios"])
    lines = [
        f"sendText benchmark: {result['cores']} cores, {pin}; "
        f"wrk -t1 -c{result['connections']} -d{result['seconds']}s, 142-byte body; "
        f"{result['rounds']} alternating rounds, median runs shown",
        f"Parley's hot path: {result['hot_path']}; metrics {result.get('metrics', 'on')}",
        "",
        f"  {'':<38}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'× ceiling':>11}",
        _row("ceiling: bare ASGI + msgspec", ceiling, ceiling),
        _row("Parley sendText (committed + polled)", parley, ceiling),
        "",
        f"  ratio {result['ratio']:.3f}  (target ≥ {TARGET_RATIO}: {_verdict(result['ratio'] >= TARGET_RATIO)}); "
        f"each round: {round_ratios}",
        f"  non-2xx {parley.non_2xx}, socket errors {parley.socket_errors}",
        f"  202s counted by wrk {d['wrk_2xx']:,} · messages committed {d['stored']:,} · "
        f"messaging.Text received: customer {d['customer']:,}, agent echo {d['agent']:,}",
        "  every committed message reached the customer and the agent: "
        f"{'yes' if delivered_all else 'NO'}; committed = wrk's 202s + at most the in-flight "
        f"{in_flight}: {'yes' if acked_stored else 'NO'}",
        "",
        f"latency at {'the asked rate' if result['latency_rate'] else 'half the measured rate'}: "
        f"{lat['rate']:,.0f} sendText/s for {lat['seconds']:g} s, open loop, "
        f"32 connections",
        f"  {'':<38}{'p50 ms':>9}{'p99 ms':>9}",
        f"  {'sendText written → customer event':<38}{lat['event_p50']:>9.2f}{lat['event_p99']:>9.2f}"
        f"   targets ≤ {TARGET_P50_MS:g} / ≤ {TARGET_P99_MS:g}: "
        f"{_verdict(lat['event_p50'] <= TARGET_P50_MS and lat['event_p99'] <= TARGET_P99_MS)}",
        f"  {'sendText written → 202':<38}{lat['accepted_p50']:>9.2f}{lat['accepted_p99']:>9.2f}",
        f"  {'scheduled send → customer event':<38}{lat['scheduled_event_p50']:>9.2f}"
        f"{lat['scheduled_event_p99']:>9.2f}   (adds the client's own lag, p99 {lat['send_lag_p99']:.2f} ms)",
        f"  sent {lat['sent']:,}, statuses {lat['statuses']}, delivered to the customer {lat['delivered']:,}, "
        f"max {lat['event_max']:.2f} ms",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--latency-seconds", type=float, default=5, help="length of the latency run (default 5)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating ceiling/Parley rounds (default 3)")
    parser.add_argument(
        "--latency-rate", type=float, help="sendText/s of the latency run (default: half of the measured rate)"
    )
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument(
        "--metrics", choices=("on", "off"), default="on", help="Parley's counting for /metrics (PARLEY_METRICS)"
    )
    args = parser.parse_args(argv)
    require_tools()
    rounds = max(1, args.rounds)
    result = measure(args.seconds, args.latency_seconds, args.connections, args.latency_rate, rounds, args.metrics)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
