"""Durable sendText spread over many live chats, every session receiving, against the ceiling.

For each number of chats (``--chats``, default 1, 10, 100 and 1,000) a fresh ``parley serve``
(SQLite, rate limits off) gets that many accepted web chats in one organization, one agent per
chat. Then, for each transport (``--transports``: long poll, SSE, WebSocket), every agent and
customer session receives by it (``receivers.py``, one process on the load core) while ``wrk``
sends sendText, each request to the next chat in turn, as that chat's agent.

Each run reports the rate of 202s, the server core's busy fraction over the run (its CPU time
from ``/proc`` over the wall time), the server's CPU per committed message, and how many events
each poll answer, SSE chunk or WebSocket frame carried. The ratio to the ceiling (the bare ASGI
app, measured before and after in the same run) counts only where the server was saturated
(busy ≥ 90%): elsewhere the load generators, not Parley, set the rate, and the CPU per message
is the figure. Every run checks delivery: each chat's customer and agent received each
committed message exactly once, and the committed messages are wrk's 202s plus at most the
requests in flight when it stopped.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import receivers
from chats import allow_many, open_chats, spread_script, stored_per_chat
from harness import (
    LOAD_CORE,
    SERVER_CORE,
    Ceiling,
    Chat,
    ParleyServer,
    hot_path,
    pinned,
    require_tools,
    run_wrk,
)

SATURATED = 0.90
TARGET_RATIO = {"poll": 0.5, "sse": 0.6, "ws": 0.6}  # at 100 chats
TARGET_CPU_GROWTH = 1.3  # CPU per message at 1,000 chats over that at 1 chat
NAMES = {"poll": "long poll", "sse": "SSE", "ws": "WebSocket"}


@dataclass
class Run:
    chats: int
    transport: str
    rps: float
    requests: int
    ok: int
    committed: int
    busy: float  # the server core's busy fraction during the run
    cpu_us: float  # server CPU per committed message
    p99_ms: float
    per_answer: float  # events per poll answer, SSE chunk or WebSocket frame
    problems: list[str] = field(default_factory=list)

    @property
    def saturated(self) -> bool:
        return self.busy >= SATURATED


def _received(counts: dict[str, Any], chats: int) -> dict[str, list[int]]:
    out = {"agent": [0] * chats, "customer": [0] * chats}
    for chat, role, texts in counts["texts"]:
        out[role][chat] = texts
    return out


def _settled(
    pipe: Pipe, server: ParleyServer, chats: list[Chat], before: list[int], limit: float = 20.0
) -> tuple[list[int], dict[str, Any]]:
    """Messages committed per chat during the run, and what the receivers got, once both agree
    or stop moving."""
    deadline = time.monotonic() + limit
    last: tuple[list[int], dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        time.sleep(0.5)
        stored = [after - b for after, b in zip(stored_per_chat(server, chats), before, strict=True)]
        counts = receivers.ask(pipe, "counts")
        received = _received(counts, len(chats))
        if received["agent"] == stored and received["customer"] == stored:
            return stored, counts
        if last is not None and last[0] == stored and last[1]["texts"] == counts["texts"]:
            break
        last = (stored, counts)
    assert last is not None
    return last


def _problems(stored: list[int], counts: dict[str, Any], ok: int, requests: int, connections: int) -> list[str]:
    problems = list(counts["failures"])
    received = _received(counts, len(stored))
    for role in ("customer", "agent"):
        wrong = [i for i, (got, want) in enumerate(zip(received[role], stored, strict=True)) if got != want]
        if wrong:
            i = wrong[0]
            problems.append(
                f"{len(wrong)} chats' {role}s got another count (chat {i}: {received[role][i]} of {stored[i]})"
            )
    if counts["duplicates"]:
        problems.append(f"{counts['duplicates']} messages delivered twice")
    committed = sum(stored)
    if not ok <= committed <= requests + connections:
        problems.append(f"{committed} committed against {ok} 202s of {requests} answered requests")
    if ok != requests:
        problems.append(f"{requests - ok} answers were not 2xx")
    return problems


def measure_chats(count: int, transports: list[str], seconds: int, connections: int) -> list[Run]:
    runs = []
    with ParleyServer() as server:
        allow_many(server)
        server.start()
        started = time.monotonic()
        chats = open_chats(server, count)
        print(f"  {count} chats opened in {time.monotonic() - started:.1f} s", flush=True)
        script = spread_script(chats)
        url = server.base_url + chats[0].send_text_path
        for transport in transports:
            with receivers.started(receivers.targets(chats, transport), server.base_url) as pipe:
                before = stored_per_chat(server, chats)
                result = run_wrk(url, script, server.pid, seconds, connections)
                stored, counts = _settled(pipe, server, chats, before)
            committed = sum(stored)
            cpu = result.server_cpu_us * result.requests / 1e6
            run = Run(
                chats=count,
                transport=transport,
                rps=result.ok / result.seconds,
                requests=result.requests,
                ok=result.ok,
                committed=committed,
                busy=cpu / result.seconds,
                cpu_us=cpu / max(committed, 1) * 1e6,
                p99_ms=result.p99_ms,
                per_answer=2 * committed / max(counts["answers"], 1),
                problems=_problems(stored, counts, result.ok, result.requests, connections),
            )
            runs.append(run)
            print("  " + _row(run, None), flush=True)
    return runs


def _row(run: Run, ceiling: float | None) -> str:
    if not run.saturated:
        ratio = "(not saturated)"
    elif ceiling:
        ratio = f"{run.rps / ceiling:.2f}"
    else:
        ratio = ""
    delivery = "every 202 delivered once to both" if not run.problems else "; ".join(run.problems[:2])
    if len(run.problems) > 2:
        delivery += f" (and {len(run.problems) - 2} more problems)"
    return (
        f"{run.chats:>5}  {NAMES[run.transport]:<9}  {run.rps:>9,.0f}  {ratio:>15}  {run.busy:>5.0%}  "
        f"{run.cpu_us:>7.1f}  {run.per_answer:>6.1f}  {run.p99_ms:>6.1f}  {delivery}"
    )


HEADER = (
    "chats  transport  sendText/s  × ceiling        busy  CPU µs/msg  ev/ans  p99 ms  delivery\n"
    "-----  ---------  ----------  ---------------  -----  -------  ------  ------  --------"
)


def targets(runs: list[Run], ceiling: float) -> list[str]:
    lines = []
    for transport in TARGET_RATIO:
        at_100 = [r for r in runs if r.chats == 100 and r.transport == transport]
        want = f"100 chats, {NAMES[transport]}: ≥ {TARGET_RATIO[transport]} × the ceiling"
        if not at_100:
            lines.append(f"{want}: not measured")
        elif not at_100[0].saturated:
            lines.append(f"{want}: server not saturated ({at_100[0].busy:.0%} busy), no ratio")
        else:
            got = at_100[0].rps / ceiling
            lines.append(f"{want}: {got:.2f} {'MET' if got >= TARGET_RATIO[transport] else 'NOT MET'}")
    for transport in TARGET_RATIO:
        one = [r for r in runs if r.chats == 1 and r.transport == transport]
        many = [r for r in runs if r.chats == 1000 and r.transport == transport]
        want = f"CPU per message, 1,000 chats ≤ {TARGET_CPU_GROWTH} × 1 chat, {NAMES[transport]}"
        if not one or not many:
            lines.append(f"{want}: not measured")
        else:
            growth = many[0].cpu_us / one[0].cpu_us
            verdict = "MET" if growth <= TARGET_CPU_GROWTH else "NOT MET"
            lines.append(f"{want}: {one[0].cpu_us:.1f} → {many[0].cpu_us:.1f} µs, {growth:.2f} × {verdict}")
    lines.append("sendText → customer event p99 ≤ 5 ms at half the maximum rate, 100 chats: not measured here")
    lines.append("1 chat, long poll, ≥ 0.6 × the ceiling: bench_send_text.py measures it")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", default="1,10,100,1000", help="comma-separated chat counts (default 1,10,100,1000)")
    parser.add_argument("--transports", default="poll,sse,ws", help="comma-separated: poll, sse, ws (default all)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.chats.split(",")]
    transports = args.transports.split(",")
    unknown = set(transports) - set(receivers.TRANSPORTS)
    if unknown:
        parser.error(f"unknown transports: {', '.join(sorted(unknown))}")
    require_tools()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # 2,000 sessions are 2,000 sockets
    where = (
        f"server on core {SERVER_CORE}, load on core {LOAD_CORE}" if pinned(LOAD_CORE) else "one core: nothing pinned"
    )
    print(f"Parley's hot path: {hot_path()}; {where}")
    ceilings = []
    runs: list[Run] = []
    with Ceiling() as ceiling:
        ceilings.append(ceiling.run(args.seconds).rps)
        print(f"ceiling: {ceilings[0]:,.0f} req/s", flush=True)
        for count in counts:
            runs += measure_chats(count, transports, args.seconds, args.connections)
        ceilings.append(ceiling.run(args.seconds).rps)
        print(f"ceiling again: {ceilings[1]:,.0f} req/s", flush=True)
    mean = statistics.fmean(ceilings)
    print(f"\nceiling (bare ASGI, mean of before and after): {mean:,.0f} req/s")
    print(HEADER)
    for run in runs:
        print(_row(run, mean))
    print("\nTargets:")
    for line in targets(runs, mean):
        print("  " + line)
    if args.json:
        args.json.write_text(json.dumps({"ceilings": ceilings, "runs": [asdict(r) for r in runs]}, indent=2))
    return 1 if any(r.problems for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
