"""How a conversation looks: who said what, URLs marked, who is typing."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from rich.text import Text

from parley_client import Notification
from parley_client import Text as TextPayload
from parley_client import Url as UrlPayload
from parley_terminal.screen import Screen

URL = re.compile(r"https?://\S+")
STYLES = {"Contact": "bold cyan", "Agent": "bold green", "System": "bold yellow", "Monitor": "bold magenta"}
LINK = "underline bright_blue"


def marked(text: str, style: str = "") -> Text:
    """``text`` with every URL underlined and clickable."""
    out = Text(style=style)
    position = 0
    for match in URL.finditer(text):
        out.append(text[position : match.start()])
        out.append(match.group(), style=f"{LINK} link {match.group()}")
        position = match.end()
    out.append(text[position:])
    return out


class Conversation:
    """Renders one participant's view of a conversation on a ``Screen``."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self._typing: dict[str, asyncio.TimerHandle] = {}

    def note(self, message: str, style: str = "dim") -> None:
        self.screen.print(Text(message, style=style))

    def _line(self, name: str, entity_type: str, body: Text, mine: bool) -> None:
        line = Text()
        line.append(datetime.now().strftime("%H:%M "), style="dim")
        label = "you" if mine else name
        if entity_type == "Monitor":
            label += " (whisper)"
        line.append(f"{label}: ", style=STYLES.get(entity_type, "bold"))
        line.append_text(body)
        self._stopped(name)
        self.screen.print(line)

    def text(self, payload: TextPayload, mine: bool) -> None:
        self._line(payload.entity_name, payload.entity_type, marked(payload.text), mine)

    def url(self, payload: UrlPayload, mine: bool) -> None:
        body = Text("🔗 ")
        body.append(payload.url, style=f"{LINK} link {payload.url}")
        self._line(payload.entity_name, payload.entity_type, body, mine)

    def typing(self, payload: Notification) -> None:
        name = payload.entity_name
        if payload.state != "composing":
            self._stopped(name)
            return
        self._stopped(name)
        # The server always says idle; the timer only guards against a lost event.
        delay = float(payload.expires_after_seconds or 10) + 1.0
        self._typing[name] = asyncio.get_running_loop().call_later(delay, self._stopped, name)
        self._show()

    def _stopped(self, name: str) -> None:
        timer = self._typing.pop(name, None)
        if timer is not None:
            timer.cancel()
            self._show()

    def _show(self) -> None:
        names = list(self._typing)
        if not names:
            self.screen.set_status("")
        else:
            verb = "is" if len(names) == 1 else "are"
            self.screen.set_status(f"{' and '.join(names)} {verb} typing…")
