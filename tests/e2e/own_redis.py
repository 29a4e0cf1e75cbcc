"""A Redis of the test's own, a child process it may stop and resume (never the shared one)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.server import free_port


@dataclass
class OwnRedis:
    url: str
    process: subprocess.Popen[bytes]
    command: list[str]
    port: int

    @contextmanager
    def hung(self) -> Iterator[None]:
        """Redis stops answering (SIGSTOP: connections stay open, nothing is read) until the block ends."""
        os.kill(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.process.pid, signal.SIGCONT)

    @contextmanager
    def gone(self) -> Iterator[None]:
        """Redis is killed (connections refused) until the block ends, then started again on its port."""
        self.process.kill()
        self.process.wait(10)
        try:
            yield
        finally:
            self.process = _start(self.command, self.port)


def _start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise AssertionError("redis-server did not start") from None
            time.sleep(0.05)


@contextmanager
def own_redis(directory: Path, *, persistent: bool = False) -> Iterator[OwnRedis]:
    """``persistent``: every write in the append-only file, so a restart keeps the sessions."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(directory)]
    if persistent:
        command += ["--appendonly", "yes", "--appendfsync", "always"]
    redis = OwnRedis(f"redis://127.0.0.1:{port}/0", _start(command, port), command, port)
    try:
        yield redis
    finally:
        os.kill(redis.process.pid, signal.SIGCONT)
        redis.process.terminate()
        redis.process.wait(10)
