"""SMS text rules: GSM-7 or UCS-2, segmenting, the 10-segment limit, opt-out keywords.

A text goes as GSM-7 when every character is in the GSM 03.38 basic set or its extension table
(extension characters take two septets: an escape and the character), otherwise as UCS-2,
counted in UTF-16 code units so that an emoji takes two. One segment carries 160 septets or 70
units; a multipart message carries 153 or 67 per segment because each part spends the rest on
its concatenation header. A character is never split across segments, so neither an escape
pair nor a surrogate pair ever straddles a boundary.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from gsm0338.charset import BASIC_CHARACTER_SET, BASIC_CHARACTER_SET_EXTENSION

from parley.domain.errors import RuleViolation


class SmsEncoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


MAX_SEGMENTS = 10
SINGLE_SEGMENT_UNITS = {SmsEncoding.GSM7: 160, SmsEncoding.UCS2: 70}
MULTIPART_SEGMENT_UNITS = {SmsEncoding.GSM7: 153, SmsEncoding.UCS2: 67}

_ESCAPE = 0x1B


def _gsm_septets() -> dict[str, int]:
    # The escape code itself is not a character a text may contain: it announces the extension.
    table = {unicodedata.lookup(name): 1 for code, name in BASIC_CHARACTER_SET.items() if code != _ESCAPE}
    table.update({unicodedata.lookup(name): 2 for name in BASIC_CHARACTER_SET_EXTENSION.values()})
    return table


GSM7_SEPTETS: dict[str, int] = _gsm_septets()


@dataclass(frozen=True, slots=True)
class SmsPlan:
    """How a text travels as SMS.

    ``characters`` is the length a person sees, counted in Unicode code points (an emoji is
    one, ``€`` is one). ``units`` is what the network counts: septets for GSM-7 (``€`` is two),
    UTF-16 code units for UCS-2 (an emoji is two). An empty text has no segments.
    """

    encoding: SmsEncoding
    segments: list[str]
    characters: int
    units: int
    characters_forcing_ucs2: list[str]

    @property
    def segment_count(self) -> int:
        return len(self.segments)


def plan_sms(text: str) -> SmsPlan:
    forcing = list(dict.fromkeys(char for char in text if char not in GSM7_SEPTETS))
    if forcing:
        encoding = SmsEncoding.UCS2
        costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    else:
        encoding = SmsEncoding.GSM7
        costs = [GSM7_SEPTETS[char] for char in text]
    units = sum(costs)
    if not text:
        segments: list[str] = []
    elif units <= SINGLE_SEGMENT_UNITS[encoding]:
        segments = [text]
    else:
        segments = _split(text, costs, MULTIPART_SEGMENT_UNITS[encoding])
    return SmsPlan(encoding, segments, len(text), units, forcing)


def _split(text: str, costs: list[int], limit: int) -> list[str]:
    segments: list[str] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > limit:
            segments.append(text[start:index])
            start, used = index, 0
        used += cost
    segments.append(text[start:])
    return segments


def check_sms_length(text: str) -> SmsPlan:
    """The plan for ``text``; a text needing more than ``MAX_SEGMENTS`` segments is refused."""
    plan = plan_sms(text)
    if plan.segment_count > MAX_SEGMENTS:
        gsm = MAX_SEGMENTS * MULTIPART_SEGMENT_UNITS[SmsEncoding.GSM7]
        ucs = MAX_SEGMENTS * MULTIPART_SEGMENT_UNITS[SmsEncoding.UCS2]
        raise RuleViolation.of(
            "text",
            "textTooLong",
            f"an SMS text may use at most {MAX_SEGMENTS} SMS segments ({gsm} GSM-7 characters / "
            f"{ucs} UCS-2; € [ ] {{ }} ~ ^ | \\ count twice in GSM-7); "
            f"this text needs {plan.segment_count} segments as {plan.encoding}",
        )
    return plan


OptKeyword = Literal["stop", "start"]

STOP_KEYWORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
START_KEYWORDS = frozenset({"start", "unstop"})


def opt_keyword(text: str) -> OptKeyword | None:
    """``"stop"`` or ``"start"`` when the whole message is an opt-out or opt-in keyword.

    Case does not matter, nor whitespace or punctuation around the word (``" Stop! "``), but
    the keyword must be the whole message: ``"please stop"`` is an ordinary text.
    """
    word = _strip_edges(text).casefold()
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    return None


def _strip_edges(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_edge(text[start]):
        start += 1
    while end > start and _is_edge(text[end - 1]):
        end -= 1
    return text[start:end]


def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")
