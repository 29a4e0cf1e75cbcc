"""The typing heartbeat: ``composing`` now and every ``expires - 1`` seconds until the block ends.

The server expires a composing state on its own and says ``idle`` when the same sender's text
arrives, so stopping the heartbeat is all it takes to stop typing. Typing is a courtesy: a
refusal (the chat ended: ``Gone``) stops the heartbeat and is kept in ``.error``, on entry as
later, never raised into the block that was only saying "composing".
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType

from parley_client._exceptions import ParleyError
from parley_client._tasks import cancel_and_wait

MIN_INTERVAL = 0.5


def interval_for(expires: int) -> float:
    return max(float(expires) - 1.0, MIN_INTERVAL)


class Heartbeat:
    def __init__(self, expires: int) -> None:
        self.interval = interval_for(expires)
        self.error: ParleyError | None = None  # why the heartbeat stopped early, if it did


class Typing(Heartbeat):
    """``with client.typing(interaction_id):`` in a blocking program (the beats run in a thread)."""

    def __init__(self, send: Callable[[], None], expires: int) -> None:
        super().__init__(expires)
        self._send = send
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            self._send()
        except ParleyError as exc:
            self.error = exc
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._beat, name="parley-typing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _beat(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self._send()
            except ParleyError as exc:
                self.error = exc
                return

    def __enter__(self) -> Typing:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class AsyncTyping(Heartbeat):
    """``async with client.typing(interaction_id):`` re-sends composing in a task."""

    def __init__(self, send: Callable[[], Awaitable[None]], expires: int) -> None:
        super().__init__(expires)
        self._send = send
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        try:
            await self._send()
        except ParleyError as exc:
            self.error = exc
            return
        self._task = asyncio.create_task(self._beat())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._send()
            except ParleyError as exc:
                self.error = exc
                return

    async def __aenter__(self) -> AsyncTyping:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
