"""What idle sessions cost: memory, CPU and wake-ups while nothing happens, and sendText's p99.

One ``parley serve`` (SQLite, rate limits off) with one accepted chat, its two sessions
long-polling. Measured first with nothing else open, then with ``--sessions`` idle sessions
(default 10,000) connected from one process on the load core, their transports in turn long
poll, SSE and WebSocket, half of them an agent's and half customers' without a chat:

- the server's resident memory (``VmRSS`` in ``/proc/PID/status``), after start-up, with the
  chat, and with the idle sessions open: the difference over the sessions is their cost, and
  unlike a timing it does not depend on what else the machine runs;
- the server's CPU time (``/proc/PID/stat``) and its voluntary context switches (each one a
  wake-up from waiting for events) over ``--quiet`` seconds in which nothing is sent, with and
  without the idle sessions;
- ``wrk`` sendText to the chat for ``--seconds``, with and without the idle sessions: p99 and
  the rate, with the chat's delivery checked as in ``bench_send_text.py``.

Targets (issue 15): 10,000 idle sessions ≤ 200 MB, no CPU when nothing happens, sendText p99
with them open at most 1.5 times that without.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import receivers
from chats import allow_many, open_chats, open_idle_sessions, spread_script, stored_per_chat
from harness import Chat, ParleyServer, WrkResult, cpu_seconds, hot_path, require_tools, run_wrk

TARGET_MB = 200
TARGET_P99_GROWTH = 1.5


def status_field(pid: int, name: str) -> int:
    """A number from ``/proc/PID/status`` (memory in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {name} in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    return status_field(pid, "VmRSS") / 1024


def quiet(pid: int, seconds: float) -> tuple[float, float]:
    """CPU milliseconds and voluntary context switches per second while nothing is sent."""
    cpu, switches = cpu_seconds(pid), status_field(pid, "voluntary_ctxt_switches")
    time.sleep(seconds)
    cpu_ms = (cpu_seconds(pid) - cpu) * 1000 / seconds
    return cpu_ms, (status_field(pid, "voluntary_ctxt_switches") - switches) / seconds


def sends(server: ParleyServer, chats: list[Chat], seconds: int, connections: int) -> tuple[WrkResult, str]:
    before = sum(stored_per_chat(server, chats))
    result = run_wrk(server.base_url + chats[0].send_text_path, spread_script(chats), server.pid, seconds, connections)
    time.sleep(2)  # the last commits and answers
    committed = sum(stored_per_chat(server, chats)) - before
    ok = result.ok <= committed <= result.requests + connections
    return result, "delivered" if ok else f"{committed} committed against {result.ok} 202s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000, help="idle sessions to open (default 10,000)")
    parser.add_argument("--quiet", type=float, default=10, help="seconds with nothing sent (default 10)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    args = parser.parse_args(argv)
    require_tools()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"Parley's hot path: {hot_path()}")
    with ParleyServer() as server:
        allow_many(server)
        server.start()
        started_mb = rss_mb(server.pid)
        chats = open_chats(server, 1)
        with receivers.started(receivers.targets(chats, "poll"), server.base_url):
            alone, alone_delivery = sends(server, chats, args.seconds, args.connections)
            chat_mb = rss_mb(server.pid)
            alone_cpu, alone_switches = quiet(server.pid, args.quiet)
            opened = time.monotonic()
            idle = open_idle_sessions(server, chats[0], args.sessions)
            with receivers.started(idle, server.base_url) as idle_pipe:
                print(f"{args.sessions:,} idle sessions open and connected in {time.monotonic() - opened:.1f} s")
                time.sleep(2)
                idle_mb = rss_mb(server.pid)
                idle_cpu, idle_switches = quiet(server.pid, args.quiet)
                crowded, crowded_delivery = sends(server, chats, args.seconds, args.connections)
                failures = receivers.ask(idle_pipe, "counts")["failures"]
    per_session_kb = (idle_mb - chat_mb) * 1024 / args.sessions
    growth = crowded.p99_ms / alone.p99_ms if alone.p99_ms else float("nan")
    print(f"\nserver RSS: {started_mb:.1f} MB after start, {chat_mb:.1f} MB with the chat,")
    print(f"  {idle_mb:.1f} MB with {args.sessions:,} idle sessions: {per_session_kb:.1f} kB a session")
    print(f"nothing sent for {args.quiet:g} s: {alone_cpu:.2f} ms of CPU and {alone_switches:.1f} wake-ups a second")
    print(f"  without the idle sessions, {idle_cpu:.2f} ms and {idle_switches:.1f} with them")
    for name, result, delivery in (("without", alone, alone_delivery), ("with", crowded, crowded_delivery)):
        print(
            f"sendText {name} them: {result.rps:,.0f}/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
            f"{result.server_cpu_us:.1f} µs CPU a request; {delivery}"
        )
    if failures:
        print(f"idle sessions that failed: {len(failures)}, e.g. {failures[0]}")
    mb = idle_mb - chat_mb
    print("\nTargets:")
    print(f"  {args.sessions:,} idle sessions ≤ {TARGET_MB} MB: {mb:.0f} MB {'MET' if mb <= TARGET_MB else 'NOT MET'}")
    print(f"  no CPU when nothing happens: {idle_cpu:.2f} ms/s with them against {alone_cpu:.2f} ms/s without")
    verdict = "MET" if growth <= TARGET_P99_GROWTH else "NOT MET"
    print(f"  sendText p99 with them ≤ {TARGET_P99_GROWTH} × without: {growth:.2f} × {verdict}")
    return 1 if failures or {alone_delivery, crowded_delivery} != {"delivered"} else 0


if __name__ == "__main__":
    sys.exit(main())
