"""Running Kannel: bearerbox, then smsbox, with the configuration Parley writes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType

from parley.adapters.channels.kannel.config import HOST, KannelConfig, render_kannel_conf

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"


class KannelStartError(RuntimeError):
    pass


class KannelProcess:
    """bearerbox and smsbox for ``config``, with their config and logs in ``directory``.

    Use ``async with`` or ``start`` / ``stop``. smsbox exits at once when it cannot reach
    bearerbox, so bearerbox must be accepting box connections before smsbox starts.
    """

    def __init__(
        self,
        config: KannelConfig,
        directory: Path,
        *,
        startup_timeout: float = 10.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.config = config
        self.directory = directory
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._bearerbox: asyncio.subprocess.Process | None = None
        self._smsbox: asyncio.subprocess.Process | None = None

    @property
    def conf_path(self) -> Path:
        return self.directory / "kannel.conf"

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # The file holds the sendsms and admin passwords.
        fd = os.open(self.conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as conf:
            conf.write(render_kannel_conf(self.config, str(self.directory)))
        try:
            self._bearerbox = await self._spawn(BEARERBOX)
            await self._wait_until(self._bearerbox, "bearerbox", self.config.smsbox_port, _accepts)
            self._smsbox = await self._spawn(SMSBOX)
            await self._wait_until(self._smsbox, "smsbox", self.config.sendsms_port, _answers_as_kannel)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """SIGTERM smsbox, then bearerbox (which flushes its queues), waiting for each."""
        smsbox, self._smsbox = self._smsbox, None
        bearerbox, self._bearerbox = self._bearerbox, None
        for process in (smsbox, bearerbox):
            if process is not None:
                await self._terminate(process)

    async def __aenter__(self) -> KannelProcess:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    async def _spawn(self, program: str) -> asyncio.subprocess.Process:
        # Each box logs to its own .log file (see the config); .out keeps what it says before
        # that file is open, such as configuration errors.
        out = os.open(self.directory / f"{Path(program).name}.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            return await asyncio.create_subprocess_exec(
                program, str(self.conf_path), stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
            )
        finally:
            os.close(out)

    async def _wait_until(
        self,
        process: asyncio.subprocess.Process,
        name: str,
        port: int,
        ready: Callable[[int], Awaitable[bool]],
    ) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while True:
            if process.returncode is not None:
                raise KannelStartError(f"{name} exited with {process.returncode}; see {self._log(name)}")
            if await ready(port):
                return
            if time.monotonic() > deadline:
                raise KannelStartError(f"{name} is not ready on port {port}; see {self._log(name)}")
            await asyncio.sleep(0.05)

    def _log(self, name: str) -> str:
        return f"{name}.out and {name}.log in {self.directory}"

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._stop_timeout)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _answers_as_kannel(port: int) -> bool:
    """True when Kannel's HTTP server answers there, not just anything listening on the port."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    try:
        writer.write(b"GET /cgi-bin/sendsms HTTP/1.0\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 1.0)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return False
    finally:
        writer.close()
    return b"\r\nServer: Kannel/" in head
