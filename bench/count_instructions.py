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
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import load
from harness import PARLEY, ParleyServer, hot_path, open_chat, wait_healthy


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


def counted(out: Path) -> int:
    """The largest total among the dumps (the one taken while counting was on)."""
    totals = [0]
    for path in out.parent.glob(out.name + ".*"):
        for line in path.read_text(errors="replace").splitlines():
            found = re.match(r"(?:summary|totals): (\d+)", line)
            if found:
                totals.append(int(found.group(1)))
    return max(totals)


def measure(rate: float, seconds: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="parley-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        with CountedServer(out) as server:
            server.start()
            chat = open_chat(server)
            with load.started(chat) as pipe:
                time.sleep(2)  # both polls are waiting
                server.counting(True)
                pipe.send(("latency", rate, seconds))
                if not pipe.poll(seconds + 120):
                    raise SystemExit("the load process did not finish sending")
                sent = pipe.recv()
                server.counting(False)
                server.dump()
                pipe.send(("stop",))
        instructions = counted(out)
    messages = int(sent["sent"])
    return {
        "hot_path": hot_path(),
        "rate": rate,
        "messages": messages,
        "delivered": sent["delivered"],
        "instructions": instructions,
        "per_message": instructions / max(messages, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=25, help="sendText per second (default 25)")
    parser.add_argument("--seconds", type=float, default=20, help="length of the counted run (default 20)")
    args = parser.parse_args(argv)
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: apt-get install -y valgrind")
    result = measure(args.rate, args.seconds)
    print(f"Parley's hot path: {result['hot_path']}")
    print(
        f"  {result['messages']:,} sendText at {result['rate']:g}/s, "
        f"{result['delivered']:,} delivered to the customer;",
        f"{result['instructions']:,} instructions in the server, {result['per_message']:,.0f} per message",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
