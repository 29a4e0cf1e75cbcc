"""Streaming operations both sides share: one long poll and acknowledgement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley_client._call import Call, no_content
from parley_client._events import EventBatch, decode_batch
from parley_client._models import Acknowledge

if TYPE_CHECKING:
    from parley_client._base import BaseClient

POLL_MARGIN = 10.0  # seconds a long poll's HTTP timeout exceeds its server-side timeout


def poll(c: BaseClient[Any], *, max_events: int = 1, timeout: int = 30, after: int | None = None) -> Call[EventBatch]:
    """One long poll: up to ``max_events`` events, waiting at most ``timeout`` seconds for the first.

    With ``after`` the events after that sequence number the server still retains (a
    ``ResetEvent`` first if some are gone), so a poll whose answer was lost can be asked again.
    """
    params = {"maxEvents": max_events, "timeout": timeout}
    if after is not None:
        params["after"] = after
    return Call(
        "GET",
        f"{c.streaming_path}/events",
        lambda r: decode_batch(r.content),
        params=params,
        session=True,
        timeout=timeout + POLL_MARGIN,
        repeat_after_loss=False,
    )


def acknowledge(c: BaseClient[Any], sequence_number: int) -> Call[None]:
    """Acknowledge every event up to ``sequence_number`` (sessions with requireAcknowledgement)."""
    body = Acknowledge(sequence_number=sequence_number)
    return Call("POST", f"{c.streaming_path}/acknowledge", no_content, body=body, session=True)
