"""The shared event engine: sessions, queues and typing state in Redis, so any instance serves any poll.

Same semantics as ``MemoryEventEngine``; the layout is in ``redis_scripts``. Session expiry uses
the clock's wall time (``now``), the one time every instance shares. A waiting poll keeps its
session alive until its timeout would have ended, even when it returns earlier.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.typing import EncodableT

from parley.adapters.bus import redis_scripts
from parley.adapters.bus.redis_wakeups import Wakeups, close_within
from parley.clock import Clock, iso
from parley.domain.ids import new_id
from parley.domain.interactions import ENTITY_TYPE_OF
from parley.domain.typing import MAX_EXPIRES_SECONDS, TypingKey, Typist
from parley.service.ports import Envelope, Reset, SessionDropped, StreamSession

SWEEP_BATCH = 500
_SEP = "\x1f"

_blob = msgspec.json.Encoder()
_unblob = msgspec.json.Decoder(tuple[str, str, str, dict[str, Any]])
_typist = msgspec.json.Decoder(tuple[str, str, str, str | None])


def _typist_blob(typist: Typist) -> bytes:
    return _blob.encode((typist.org_id, str(typist.entity_type), typist.entity_name, typist.user_id))


def _typist_of(blob: bytes) -> Typist:
    org_id, entity_type, entity_name, user_id = _typist.decode(blob)
    return Typist(org_id, ENTITY_TYPE_OF[entity_type], entity_name, user_id)


class RedisEventEngine:
    def __init__(
        self,
        url: str,
        clock: Clock,
        queue_limit: int = 10_000,
        retain_delivered: int = 1000,
        prefix: str = "parley:",
    ) -> None:
        self.clock = clock
        self.queue_limit = queue_limit
        self.retain_delivered = retain_delivered
        self.prefix = prefix
        self._redis = Redis.from_url(url)
        self._wakeups = Wakeups(self._redis)
        self._closed = False
        self._released = False  # stopping: polls no longer wait
        script = self._redis.register_script
        self._create = script(redis_scripts.CREATE)
        self._get = script(redis_scripts.GET)
        self._touch = script(redis_scripts.TOUCH)
        self._delete = script(redis_scripts.DELETE)
        self._sessions_of = script(redis_scripts.SESSIONS_OF)
        self._sweep = script(redis_scripts.SWEEP)
        self._publish = script(redis_scripts.PUBLISH)
        self._take_script = script(redis_scripts.TAKE)
        self._acknowledge = script(redis_scripts.ACKNOWLEDGE)
        self._composing = script(redis_scripts.TYPING_COMPOSING)
        self._stop = script(redis_scripts.TYPING_STOP)
        self._stop_interaction = script(redis_scripts.TYPING_STOP_INTERACTION)
        self._expire = script(redis_scripts.TYPING_EXPIRE)

    async def start(self) -> None:
        self._closed = False
        self._released = False
        await self._wakeups.start()

    async def ping(self) -> None:
        await self._redis.ping()

    def release_waiters(self) -> None:
        self._released = True
        self._wakeups.wake_all()

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._wakeups.close()
        await close_within(self._redis.aclose(), "the Redis connections")

    async def _run(self, script: AsyncScript, *args: EncodableT) -> Any:
        return await script(keys=[], args=[self.prefix, repr(self.clock.now()), *args])

    async def _live(self, script: AsyncScript, session_id: str, *args: EncodableT) -> list[Any]:
        reply: list[Any] = await self._run(script, session_id, *args)
        if reply[0] == b"gone":
            raise SessionDropped(reply[1].decode())
        return reply

    # sessions

    async def create_session(self, session: StreamSession) -> None:
        await self._run(
            self._create,
            session.session_id,
            session.org_id,
            session.owner,
            repr(session.created_at),
            session.inactivity_delay,
            int(session.require_ack),
        )

    async def get_session(self, session_id: str) -> StreamSession:
        reply = await self._live(self._get, session_id)
        return _session(session_id, reply[1:])

    async def delete_session(self, session_id: str) -> StreamSession | None:
        fields = await self._run(self._delete, session_id)
        return None if fields is None else _session(session_id, fields)

    async def sessions_of(self, org_id: str, owner: str) -> list[str]:
        return [sid.decode() for sid in await self._run(self._sessions_of, org_id, owner)]

    async def touch(self, session_id: str) -> None:
        await self._live(self._touch, session_id)

    async def sweep(self) -> list[StreamSession]:
        swept: list[StreamSession] = []
        while True:
            flat = await self._run(self._sweep, SWEEP_BATCH)
            for i in range(0, len(flat), 6):
                swept.append(_session(flat[i].decode(), flat[i + 1 : i + 6]))
            if len(flat) < SWEEP_BATCH * 6:
                return swept

    # events

    async def publish(self, org_id: str, owners: Sequence[str], event_type: str, payload: dict[str, Any]) -> None:
        if not owners:
            return
        event_id = new_id("evt")
        blob = _blob.encode((event_id, event_type, iso(self.clock.now()), payload))
        await self._run(self._publish, self.queue_limit, blob, org_id, *dict.fromkeys(owners))

    async def next_events(
        self,
        session_id: str,
        max_events: int,
        timeout: float,
        after: int | None = None,
    ) -> list[Envelope | Reset]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        batch = await self._take(session_id, max_events, after, timeout)
        if batch or timeout <= 0 or self._released:
            return batch
        async with self._wakeups.watch(self._channel(session_id)) as woken:
            while not self._closed:
                woken.clear()
                remaining = deadline - loop.time()
                batch = await self._take(session_id, max_events, after, max(remaining, 0))
                if batch or remaining <= 0 or self._released:
                    return batch
                try:
                    async with asyncio.timeout(remaining):
                        await woken.wait()
                except TimeoutError:
                    return []
        return []

    async def acknowledge(self, session_id: str, sequence_number: int) -> None:
        await self._live(self._acknowledge, session_id, sequence_number)

    async def _take(self, session_id: str, max_events: int, after: int | None, hold: float) -> list[Envelope | Reset]:
        reply = await self._live(
            self._take_script,
            session_id,
            max_events,
            -1 if after is None else after,
            repr(hold),
            self.retain_delivered,
        )
        reset, start = reply[1], reply[2]
        batch: list[Envelope | Reset] = [Reset(reset)] if reset else []
        for seq, blob in enumerate(reply[3:], start):
            event_id, event_type, event_time, payload = _unblob.decode(blob)
            batch.append(Envelope(event_id, seq, event_type, event_time, payload))
        return batch

    def _channel(self, session_id: str) -> bytes:
        return f"{self.prefix}w:{session_id}".encode()

    # typing

    async def typing_composing(self, key: TypingKey, expires_after: int, now: float, typist: Typist) -> bool:
        expires_at = now + max(1, min(MAX_EXPIRES_SECONDS, expires_after))
        forwarded = await self._typing(self._composing, now, key[0], key[1], repr(expires_at), _typist_blob(typist))
        return bool(forwarded)

    async def typing_stop(self, key: TypingKey) -> Typist | None:
        blob = await self._run(self._stop, *key)
        return None if blob is None else _typist_of(blob)

    async def typing_stop_interaction(self, interaction_id: str) -> list[tuple[TypingKey, Typist]]:
        flat = await self._run(self._stop_interaction, interaction_id)
        return [((interaction_id, flat[i].decode()), _typist_of(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def typing_expire(self, now: float) -> list[tuple[TypingKey, Typist]]:
        flat = await self._typing(self._expire, now)
        expired: list[tuple[TypingKey, Typist]] = []
        for i in range(0, len(flat), 2):
            interaction_id, sender = flat[i].decode().split(_SEP, 1)
            expired.append(((interaction_id, sender), _typist_of(flat[i + 1])))
        return expired

    async def _typing(self, script: AsyncScript, now: float, *args: EncodableT) -> Any:
        # Typing runs on the time its caller gives, not on this engine's clock.
        return await script(keys=[], args=[self.prefix, repr(now), *args])


def _session(session_id: str, fields: list[bytes]) -> StreamSession:
    org_id, owner, created_at, delay, ack = (f.decode() for f in fields)
    return StreamSession(session_id, org_id, owner, float(created_at), int(delay), ack == "1")
