"""Event engines: streaming sessions, their ordered event queues and typing state.

``memory://`` keeps everything in this process; ``redis://host:port/db`` shares it between
server instances.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from parley.clock import Clock
from parley.service.ports import EventEngine


def open_event_engine(url: str, clock: Clock, queue_limit: int = 10_000) -> EventEngine:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from parley.adapters.bus.memory import MemoryEventEngine

        return MemoryEventEngine(clock, queue_limit)
    if scheme in ("redis", "rediss", "unix"):
        from parley.adapters.bus.redis import RedisEventEngine

        return RedisEventEngine(url, clock, queue_limit)
    raise ValueError(f"unsupported event engine URL scheme {scheme!r} (use memory:// or redis://)")
