"""What the SMS channel keeps: numbers, opt-outs, the outbox and delivery reports. Pure.

An outbound SMS is ``queued`` from the moment it is stored until the network reports on it.
While queued, ``next_attempt_at`` is when it is (re)tried; ``None`` means the gateway has taken
it and the network's report is awaited. Reports move it forward to ``sent`` (the SMSC took
it), ``delivered`` or ``failed``; it never moves back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

OptState = Literal["out", "in"]
ReportState = Literal["sent", "delivered", "failed"]


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"


_RANK = {OutboxState.QUEUED: 0, OutboxState.SENT: 1, OutboxState.DELIVERED: 2, OutboxState.FAILED: 2}


@dataclass(frozen=True, slots=True)
class SmsNumber:
    """A sender number (E.164) an organization owns; a number belongs to one organization."""

    number: str
    org_id: str
    created_at: float


@dataclass(frozen=True, slots=True)
class OptChange:
    """A handset opting out of (``out``) or back into (``in``) an organization's SMS."""

    org_id: str
    number: str
    state: OptState
    keyword: str
    changed_at: float


@dataclass(frozen=True, slots=True)
class InboundSms:
    """An SMS from a handset as the gateway hands it over; ``gateway_id`` is the gateway's id."""

    gateway_id: str
    sender: str
    receiver: str
    text: str
    sent_at: float | None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A gateway's report on one message (or one ``part`` of ``parts``).

    ``state`` is None for reports that change nothing (buffered at the SMSC); ``code`` is the
    gateway's own status code and ``answer`` its text.
    """

    message_id: str
    state: ReportState | None
    code: int
    answer: str
    part: int | None
    parts: int | None


@dataclass(frozen=True, slots=True)
class SmsOutbound:
    """One outbound SMS: an agent's message, or a reply to STOP/START (``interaction_id`` empty)."""

    message_id: str
    org_id: str
    interaction_id: str
    to_number: str
    from_number: str
    body: str
    segments: int
    attempts: int
    next_attempt_at: float | None
    state: OutboxState
    created_at: float
    gateway_code: int | None = None
    error: str = ""
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class PartReport:
    """A delivery report as stored: one per (message, part, gateway code)."""

    message_id: str
    part: int
    state: ReportState
    code: int
    received_at: float


def retry_delay(first: float, attempts: int, cap: float) -> float:
    """How long to wait after the ``attempts``-th failed try: ``first``, doubling, at most ``cap``."""
    return float(min(cap, first * 2 ** max(0, attempts - 1)))


def combined_state(segments: int, reports: Iterable[PartReport]) -> tuple[OutboxState, int | None]:
    """What the reports on a message's parts add up to, and the gateway code of a failure.

    One failed part fails the message; it is delivered when every part is, and sent when every
    part has at least reached the SMSC. Until then it stays queued.
    """
    best: dict[int, PartReport] = {}
    for report in reports:
        if report.state == "failed":
            return OutboxState.FAILED, report.code
        known = best.get(report.part)
        if known is None or _RANK[OutboxState(report.state)] > _RANK[OutboxState(known.state)]:
            best[report.part] = report
    parts = [best.get(part) for part in range(1, max(1, segments) + 1)]
    if all(r is not None and r.state == "delivered" for r in parts):
        return OutboxState.DELIVERED, None
    if all(r is not None for r in parts):
        return OutboxState.SENT, None
    return OutboxState.QUEUED, None


def moves_forward(current: OutboxState, new: OutboxState) -> bool:
    """Whether ``new`` is news: states only advance, and a final state is final."""
    return _RANK[new] > _RANK[current]
