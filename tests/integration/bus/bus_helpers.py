"""Shared by the event engine contract tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from parley.service.ports import EventEngine, StreamSession

MakeEngine = Callable[..., Awaitable[EventEngine]]


def stream_session(
    session_id: str, owner: str = "user:u1", org_id: str = "org1", delay: int = 60, ack: bool = False
) -> StreamSession:
    return StreamSession(session_id, org_id, owner, 1_790_000_000.0, delay, ack)
