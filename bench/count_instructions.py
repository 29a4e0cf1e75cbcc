"""Instructions the Parley server executes per sendText, counted by callgrind.

Timings on a shared machine move by ±20% from one run to the next; at the default rate two
counts of one build agree to about 0.1%, so this is the measure to compare two versions of the
hot path, or the compiled build with pure Python:

    .venv/bin/python bench/count_instructions.py                     # what scripts/run would run
    PARLEY_PURE_PYTHON=1 .venv/bin/python bench/count_instructions.py

The server runs under ``valgrind --tool=callgrind`` with counting off; once an accepted chat
has its customer and agent long-polling (``load.py``), counting is switched on for an open-loop
run of sendText at ``--rate`` per second for ``--seconds``, then off. The total covers the whole
server process (HTTP, routing, checks, the commit, publishing, both polls) divided by the
messages sent. At the default 25/s every message travels alone (one commit, one answer to each
poll) even though callgrind slows the server about fifty times; at 100/s and more, messages
start to share commits and poll answers and the count moves with the machine's speed.

``--saturate SECONDS`` counts a run of ``wrk -c64`` instead: the server under callgrind is still
saturated, so groups and poll answers are shared much as at full speed (within about 3% from
one run to the next); it is the count to compare changes to the cost at the maximum rate.

``--chats N`` opens N accepted chats instead of one (``chats.py``), every agent and customer
session long-polling (``receivers.py``; ``--transport sse`` or ``ws`` for the others), and sends
each message to the next chat in turn (one at a time from a plain client at ``--rate``, or by
wrk with ``--saturate``): the count that shows what grows with the number of chats and sessions.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

import httpx

import load
import receivers
from chats import allow_many, open_chats, spread_script, stored_per_chat
from harness import (
    PARLEY,
    Chat,
    ParleyServer,
    hot_path,
    lua_request,
    messages_stored,
    open_chat,
    run_wrk,
    send_text_body,
    wait_healthy,
)


class CountedServer(ParleyServer):
    """``parley serve`` under callgrind, counting nothing until told to."""

    def __init__(self, out: Path) -> None:
        super().__init__()
        self.out = out

    def start(self) -> None:
        argv = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={self.out}.%p",
            sys.executable,
            PARLEY,
            "serve",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(argv, env=self.env, stderr=subprocess.DEVNULL)
        wait_healthy(self.base_url + "/healthz", self.process, timeout=300)

    def counting(self, on: bool) -> None:
        switch = "on" if on else "off"
        subprocess.run(["callgrind_control", "-i", switch, str(self.pid)], check=True, capture_output=True)

    def dump(self) -> None:
        subprocess.run(["callgrind_control", "-d", str(self.pid)], check=True, capture_output=True)


# Where to copy callgrind's files for callgrind_annotate (--keep); empty: they go with the run.
KEEP: list[Path] = []


def counted(out: Path) -> int:
    """The largest total among the dumps (the one taken while counting was on)."""
    totals = [0]
    for path in out.parent.glob(out.name + ".*"):
        if KEEP:
            shutil.copy(path, KEEP[0])
        for line in path.read_text(errors="replace").splitlines():
            found = re.match(r"(?:summary|totals): (\d+)", line)
            if found:
                totals.append(int(found.group(1)))
    return max(totals)


def _result(instructions: int, messages: int) -> dict[str, object]:
    return {
        "hot_path": hot_path(),
        "messages": messages,
        "instructions": instructions,
        "per_message": instructions / max(messages, 1),
    }


Work = Callable[[CountedServer, Chat, Pipe], None]


def counted_run(work: Work, settle: Callable[[CountedServer, Chat, Pipe], int]) -> dict[str, object]:
    """Count the instructions of ``work``, run once both polls wait; ``settle`` (not counted)
    then says how many messages it sent."""
    with tempfile.TemporaryDirectory(prefix="parley-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        with CountedServer(out) as server:
            server.start()
            chat = open_chat(server)
            with load.started(chat) as pipe:
                time.sleep(2)  # both polls are waiting
                server.counting(True)
                work(server, chat, pipe)
                server.counting(False)
                server.dump()
                messages = settle(server, chat, pipe)
                pipe.send(("stop",))
        instructions = counted(out)
    return _result(instructions, messages)


def measure(rate: float, seconds: float) -> dict[str, object]:
    """Open-loop sendText at ``rate`` for ``seconds``."""
    sent: dict[str, int] = {}

    def work(server: CountedServer, chat: Chat, pipe: Pipe) -> None:
        pipe.send(("latency", rate, seconds))
        if not pipe.poll(seconds + 120):
            raise SystemExit("the load process did not finish sending")
        sent.update(pipe.recv())

    return counted_run(work, lambda *_: int(sent["sent"]))


def measure_saturated(seconds: int) -> dict[str, object]:
    """``wrk -c64`` for ``seconds``: the server saturated, as in ``bench_send_text.py``, so
    commits and poll answers are shared as they are at full speed."""
    before: list[int] = []

    def work(server: CountedServer, chat: Chat, pipe: Pipe) -> None:
        before.append(messages_stored(server, chat.interaction_id))
        headers = {"Content-Type": "application/json", **chat.agent_headers()}
        script = lua_request("POST", send_text_body(chat.interaction_id, "wrk"), headers)
        run_wrk(server.base_url + chat.send_text_path, script, server.pid, seconds, 64)

    def settle(server: CountedServer, chat: Chat, pipe: Pipe) -> int:
        time.sleep(3)  # the last commits and answers
        return messages_stored(server, chat.interaction_id) - before[0]

    return counted_run(work, settle)


def measure_chats(
    count: int, rate: float, seconds: float, saturate: int | None, transport: str = "poll"
) -> dict[str, object]:
    """Like ``measure`` (or ``measure_saturated``), with the messages spread over ``count`` chats."""
    with tempfile.TemporaryDirectory(prefix="parley-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        with CountedServer(out) as server:
            allow_many(server)
            server.start()
            chats = open_chats(server, count)
            with receivers.started(receivers.targets(chats, transport), server.base_url):
                time.sleep(2)  # every poll is waiting
                before = sum(stored_per_chat(server, chats))
                server.counting(True)
                if saturate:
                    run_wrk(server.base_url + chats[0].send_text_path, spread_script(chats), server.pid, saturate, 64)
                else:
                    _send_paced(chats, rate, seconds)
                server.counting(False)
                server.dump()
                time.sleep(3)  # the last commits
                messages = sum(stored_per_chat(server, chats)) - before
        instructions = counted(out)
    return _result(instructions, messages)


def measure_polls(rate: float, seconds: float) -> dict[str, object]:
    """The agent's long poll answered at once (``timeout=0``, nothing queued), ``rate`` a second:
    what one poll answer costs, apart from the events it carries."""
    with tempfile.TemporaryDirectory(prefix="parley-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        with CountedServer(out) as server:
            server.start()
            chat = open_chat(server)
            with httpx.Client(base_url=chat.base_url, timeout=60) as http:
                path = chat.org_path + "/streaming/events?maxEvents=100&timeout=0"
                http.get(path, headers=chat.agent_headers())  # what the chat's set-up left queued
                server.counting(True)
                start = time.monotonic()
                polls = int(rate * seconds)
                for index in range(polls):
                    time.sleep(max(0.0, start + index / rate - time.monotonic()))
                    answer = http.get(path, headers=chat.agent_headers())
                    if answer.status_code != 200 or answer.json()["events"]:
                        raise SystemExit(f"the poll answered {answer.status_code}: {answer.text}")
                server.counting(False)
                server.dump()
        return _result(counted(out), polls)


def _send_paced(chats: list[Chat], rate: float, seconds: float) -> None:
    """sendText at ``rate`` per second (each request waits for the one before), chat after chat."""
    start = time.monotonic()
    with httpx.Client(base_url=chats[0].base_url, timeout=60) as http:
        for index in range(int(rate * seconds)):
            time.sleep(max(0.0, start + index / rate - time.monotonic()))
            chat = chats[index % len(chats)]
            headers = {"Content-Type": "application/json", **chat.agent_headers()}
            body = send_text_body(chat.interaction_id, "counted")
            answer = http.post(chat.send_text_path, content=body, headers=headers)
            if answer.status_code != 202:
                raise SystemExit(f"sendText failed with {answer.status_code}: {answer.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=25, help="sendText per second (default 25)")
    parser.add_argument("--seconds", type=float, default=20, help="length of the counted run (default 20)")
    parser.add_argument(
        "--saturate", type=int, metavar="SECONDS", help="instead, count SECONDS of wrk -c64 (the server saturated)"
    )
    parser.add_argument(
        "--transport", choices=receivers.TRANSPORTS, default="poll", help="how the sessions receive, with --chats"
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep callgrind's files there, for callgrind_annotate")
    parser.add_argument("--polls", action="store_true", help="count empty long-poll answers instead of sendText")
    parser.add_argument("--chats", type=int, help="spread the messages over this many chats, every session polling")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        KEEP.append(args.keep)
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: apt-get install -y valgrind")
    if args.polls:
        result = measure_polls(args.rate, args.seconds)
    elif args.chats:
        result = measure_chats(args.chats, args.rate, args.seconds, args.saturate, args.transport)
    elif args.saturate:
        result = measure_saturated(args.saturate)
    else:
        result = measure(args.rate, args.seconds)
    print(f"Parley's hot path: {result['hot_path']}")
    rate = "under wrk -c64" if args.saturate else f"at {args.rate:g}/s"
    if args.chats:
        rate += f" over {args.chats} chats, sessions receiving by {args.transport}"
    what = "empty polls" if args.polls else "sendText"
    print(
        f"  {result['messages']:,} {what} {rate};",
        f"{result['instructions']:,} instructions in the server, {result['per_message']:,.0f} each",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
