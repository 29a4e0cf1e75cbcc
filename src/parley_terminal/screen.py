"""A chat screen in a terminal: messages scroll above one input line that shows who is typing.

Keys are read one at a time (cbreak mode) so the program knows when its user starts and stops
typing; without a terminal (a pipe) whole lines are read and nothing is drawn.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import sys
import termios
import threading
import tty
from collections.abc import Callable, Iterator
from typing import TextIO

from rich.console import Console, RenderableType

ERASE_LINE = "\r\x1b[2K"
BACKSPACE = ("\x7f", "\b")
ENTER = ("\r", "\n")
CTRL_D = "\x04"
CTRL_U = "\x15"
ESCAPE = "\x1b"


class Screen:
    """Prints above the input line and redraws it: prompt, status (e.g. typing), what was typed."""

    def __init__(self, console: Console | None = None, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.console = console or Console(file=self.out, highlight=False)
        self.interactive = self.out.isatty()
        self.prompt = "> "
        self.status = ""
        self.buffer = ""

    def print(self, renderable: RenderableType) -> None:
        if self.interactive:
            self.out.write(ERASE_LINE)
        self.console.print(renderable)
        self.redraw()

    def set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.redraw()

    def redraw(self) -> None:
        if not self.interactive:
            return
        status = f"\x1b[2m{self.status}\x1b[0m " if self.status else ""
        self.out.write(f"{ERASE_LINE}{status}{self.prompt}{self.buffer}")
        self.out.flush()


class LineInput:
    """Edits one line on ``screen`` and calls back: typing started, typing stopped, line entered, end."""

    def __init__(
        self,
        screen: Screen,
        on_line: Callable[[str], None],
        on_typing: Callable[[bool], None],
        on_end: Callable[[], None],
    ) -> None:
        self.screen = screen
        self.on_line = on_line
        self.on_typing = on_typing
        self.on_end = on_end
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._in_escape = False
        self._keystrokes = False  # a terminal sends keys as they are typed; a pipe sends lines

    @contextlib.contextmanager
    def attached(self, loop: asyncio.AbstractEventLoop, stdin: TextIO | None = None) -> Iterator[None]:
        """Read keys from ``stdin`` while the block runs; the terminal is restored afterwards."""
        fd = (stdin or sys.stdin).fileno()
        self._keystrokes = os.isatty(fd)
        saved = termios.tcgetattr(fd) if self._keystrokes else None
        if saved is not None:
            tty.setcbreak(fd)
        watched = self._watch(loop, fd)
        self.screen.redraw()
        try:
            yield
        finally:
            if watched:
                loop.remove_reader(fd)
            if saved is not None:
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)

    def _watch(self, loop: asyncio.AbstractEventLoop, fd: int) -> bool:
        """Read ``fd`` as it becomes readable; True when the loop watches it (and must stop watching).

        A regular file or /dev/null cannot be watched (EPERM from epoll): a thread reads it instead.
        """
        try:
            loop.add_reader(fd, lambda: self.received(os.read(fd, 1024)))
            return True
        except PermissionError:
            threading.Thread(target=self._read_all, args=(loop, fd), name="parley-input", daemon=True).start()
            return False

    def _read_all(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        data = b"-"
        while data:
            data = os.read(fd, 1024)
            try:
                loop.call_soon_threadsafe(self.received, data)
            except RuntimeError:  # the program has ended meanwhile
                return

    def received(self, data: bytes) -> None:
        """Input arrived (empty: the input ended)."""
        if not data:
            self.on_end()
            return
        for key in self._decoder.decode(data):
            self.key(key)

    def _composing(self) -> bool:
        """Typing a message, not a command: only that is worth telling the other side."""
        return bool(self.screen.buffer) and not self.screen.buffer.startswith("/")

    def key(self, key: str) -> None:
        if self._in_escape:  # swallow arrow keys and the like: ESC [ ... final letter
            self._in_escape = not (key.isalpha() or key == "~")
            return
        before = self._composing()
        if key == ESCAPE:
            self._in_escape = True
        elif key in ENTER:
            line, self.screen.buffer = self.screen.buffer, ""
            if line.strip():
                self.on_line(line.strip())
        elif key in BACKSPACE:
            self.screen.buffer = self.screen.buffer[:-1]
        elif key == CTRL_U:
            self.screen.buffer = ""
        elif key == CTRL_D and not self.screen.buffer:
            self.on_end()
            return
        elif key.isprintable():
            self.screen.buffer += key
        after = self._composing()
        if before != after and self._keystrokes:
            self.on_typing(after)
        self.screen.redraw()
