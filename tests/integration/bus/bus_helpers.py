"""Shared by the event engine contract tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from redis.asyncio import Redis

from parley.service.ports import EventEngine, StreamSession

MakeEngine = Callable[..., Awaitable[EventEngine]]
REDIS_URL = "redis://127.0.0.1:6379/0"


async def delete_prefix(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def stream_session(
    session_id: str, owner: str = "user:u1", org_id: str = "org1", delay: int = 60, ack: bool = False
) -> StreamSession:
    return StreamSession(session_id, org_id, owner, 1_790_000_000.0, delay, ack)
