"""What the agent and the customer terminal share: the screen, the event pump, commands in order."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable

from rich.text import Text

from parley_client import AsyncEventStream, AsyncTyping, BaseEvent, ParleyError
from parley_terminal.screen import LineInput, Screen
from parley_terminal.view import Conversation

Job = Callable[[], Awaitable[None]]


class ChatApp:
    """Runs until ``quit()``: events are shown as they come, typed lines run one at a time."""

    def __init__(self, screen: Screen | None = None) -> None:
        self.screen = screen or Screen()
        self.view = Conversation(self.screen)
        self.exit_code = 0
        self._done = asyncio.Event()
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._typing: AsyncTyping | None = None

    # -- to override -----------------------------------------------------------------------------
    async def start(self) -> None: ...

    def events(self) -> AsyncEventStream:
        raise NotImplementedError

    async def handle(self, event: BaseEvent) -> None: ...

    async def command(self, line: str) -> None: ...

    def typing(self) -> AsyncTyping | None:
        """A heartbeat for the conversation in progress, if there is one."""
        return None

    async def stop(self) -> None: ...

    # -- the loop ----------------------------------------------------------------------------------
    def quit(self, exit_code: int = 0) -> None:
        self.exit_code = exit_code
        self._done.set()

    def error(self, message: str) -> None:
        self.screen.print(Text(message, style="bold red"))

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, self.quit)
        try:
            await self.start()
        except (ParleyError, LookupError) as exc:
            self.error(f"could not start: {exc}")
            return 1
        lines = LineInput(self.screen, self._enqueue_line, self._enqueue_typing, self._enqueue_end)
        with lines.attached(loop):
            tasks = [asyncio.create_task(self._pump()), asyncio.create_task(self._work())]
            await self._done.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._set_typing(False)
        with contextlib.suppress(ParleyError):
            await self.stop()
        self.screen.out.write("\n")
        return self.exit_code

    async def _pump(self) -> None:
        try:
            async with self.events() as events:  # closed on quit too: no poll left running
                async for event in events:
                    await self.handle(event)
        except Exception as exc:  # the screen must say why it stops, whatever it was
            self.error(f"event stream failed: {exc}")
            self.quit(1)

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except ParleyError as exc:
                self.error(str(exc))

    def _enqueue_line(self, line: str) -> None:
        self._jobs.put_nowait(lambda: self.command(line))

    def _enqueue_end(self) -> None:
        """The input ended (Ctrl-D, the end of a file): quit once the lines before it have run."""

        async def end() -> None:
            self.quit()

        self._jobs.put_nowait(end)

    def _enqueue_typing(self, typing: bool) -> None:
        self._jobs.put_nowait(lambda: self._set_typing(typing))

    async def _set_typing(self, typing: bool) -> None:
        if self._typing is not None:
            await self._typing.stop()
            self._typing = None
        heartbeat = self.typing() if typing else None
        if heartbeat is not None:
            with contextlib.suppress(ParleyError):  # typing is a courtesy; never fail a chat for it
                await heartbeat.start()
                self._typing = heartbeat
