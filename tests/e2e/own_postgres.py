"""A PostgreSQL cluster of the test's own, which it may restart (never the shared one).

initdb refuses to run as root, so the cluster belongs to the ``postgres`` user, in a directory
of its own under the system's temporary directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.e2e.server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
OWNER = "postgres"


@dataclass
class OwnPostgres:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/parley"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", OWNER, "--", str(BIN / "pg_ctl"), "-D", str(self.directory / "data"), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        """A fast restart: connections are cut ("the database system is shutting down"), then it is back."""
        self.pg_ctl("restart", "-m", "fast", "-w", "-o", self._options())

    def _options(self) -> str:
        return f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    root = Path(tempfile.mkdtemp(prefix="parley-pg-"))
    os.chmod(root, 0o755)
    shutil.chown(root, OWNER)
    cluster = OwnPostgres(root, free_port())
    initdb = [str(BIN / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "--no-sync"]
    subprocess.run(["runuser", "-u", OWNER, "--", *initdb], check=True, stdout=subprocess.DEVNULL)
    cluster.pg_ctl("start", "-w", "-l", str(root / "log"), "-o", cluster._options())
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with psycopg.connect(f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres", autocommit=True) as c:
                    c.execute("CREATE DATABASE parley")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield cluster
    finally:
        try:
            cluster.pg_ctl("stop", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(root, ignore_errors=True)
