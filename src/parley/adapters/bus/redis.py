"""The shared event engine: sessions, queues and typing state in Redis, so any instance serves any poll.

Same semantics as ``MemoryEventEngine``; the layout is in ``redis_scripts``. Session expiry uses
the clock's wall time (``now``), the one time every instance shares. A waiting poll keeps its
session alive until its timeout would have ended, even when it returns earlier.

Faults (``redis_circuit``): every call is bounded by ``timeout`` and answers 503 while Redis is
known to be down. A call that timed out may still run when Redis wakes up, so the two calls
whose late run would do harm carry a deadline in Redis's own time and refuse to run after it:
a take (it would mark events handed out that nobody received, a gap in the session) and a
publish (it could overtake a later one). An event whose publish failed after its message was
stored is held, in order, and published once Redis answers again (each event at most once:
Redis remembers the ids of recent events), so a 202 is never an event lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, Final

import msgspec
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.typing import EncodableT

from parley.adapters.bus import redis_scripts
from parley.adapters.bus.redis_circuit import Circuit, events_unavailable
from parley.adapters.bus.redis_wakeups import Wakeups, close_within
from parley.clock import Clock, iso
from parley.domain.errors import Unavailable
from parley.domain.ids import new_id
from parley.domain.interactions import ENTITY_TYPE_OF
from parley.domain.typing import MAX_EXPIRES_SECONDS, TypingKey, Typist
from parley.service.ports import Envelope, Reset, SessionDropped, StreamSession

log: Final = logging.getLogger(__name__)

SWEEP_BATCH = 500
CALL_TIMEOUT_SECONDS: Final = 1.0
# Events held while Redis is down; past this the publishing request answers 503 itself.
HELD_LIMIT: Final = 10_000
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
        timeout: float = CALL_TIMEOUT_SECONDS,
    ) -> None:
        self.clock = clock
        self.queue_limit = queue_limit
        self.retain_delivered = retain_delivered
        self.prefix = prefix
        # No retries inside redis-py: a script sent again after a timeout could run twice.
        self._redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self._circuit = Circuit(self._measure_clock, self._recover, timeout)
        self._wakeups = Wakeups(self._redis, timeout)
        # A deadline given to a script is this much after the call, in Redis's time: well
        # within the call's timeout, so a script that runs later ran after we gave up.
        self._deadline_after = timeout / 2
        self._redis_clock_offset = 0.0  # Redis's time minus ours
        self._held: deque[tuple[str, bytes, tuple[str, ...]]] = deque()  # (event id, blob, org + owners)
        self._unsure_takes: list[tuple[str, str]] = []  # (session id, take id) whose answer was lost
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
        self._untake = script(redis_scripts.UNTAKE)
        self._acknowledge = script(redis_scripts.ACKNOWLEDGE)
        self._composing = script(redis_scripts.TYPING_COMPOSING)
        self._stop = script(redis_scripts.TYPING_STOP)
        self._stop_interaction = script(redis_scripts.TYPING_STOP_INTERACTION)
        self._expire = script(redis_scripts.TYPING_EXPIRE)

    async def start(self) -> None:
        self._closed = False
        self._released = False
        await self._wakeups.start()
        await self._measure_clock()

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
        await self._circuit.close()
        if self._held:
            log.warning("stopping with %d events not yet published (Redis was down)", len(self._held))
        await self._wakeups.close()
        await close_within(self._redis.aclose(), "the Redis connections")

    @property
    def unavailable_since(self) -> float | None:
        """``time.monotonic()`` when Redis stopped answering, None while it answers."""
        return self._circuit.opened_at

    async def _run(self, script: AsyncScript, *args: EncodableT) -> Any:
        return await self._circuit.call(lambda: script(keys=[], args=[self.prefix, repr(self.clock.now()), *args]))

    async def _measure_clock(self) -> None:
        before = time.time()
        seconds, micros = await self._redis.time()
        self._redis_clock_offset = seconds + micros / 1e6 - (before + time.time()) / 2

    def _deadline(self) -> str:
        return repr(time.time() + self._redis_clock_offset + self._deadline_after)

    def _refused_late(self) -> None:
        """A script refused to run past its deadline: Redis is too slow to be of use just now."""
        self._circuit.trip(TimeoutError("Redis ran a call after its deadline"))
        raise events_unavailable()

    async def _live(self, script: AsyncScript, session_id: str, *args: EncodableT) -> list[Any]:
        reply: list[Any] = await self._run(script, session_id, *args)
        if reply[0] == b"gone":
            raise SessionDropped(reply[1].decode())
        if reply[0] == b"late":
            self._refused_late()
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
        audience = (org_id, *dict.fromkeys(owners))
        if not self._held:
            try:
                await self._publish_now(event_id, blob, audience)
                return
            except Unavailable:
                pass
        if len(self._held) >= HELD_LIMIT:
            raise events_unavailable()
        # Held behind the ones before it, so the events of an interaction stay in order.
        self._held.append((event_id, blob, audience))

    def _publish_call(self, event_id: str, blob: bytes, audience: tuple[str, ...]) -> Awaitable[Any]:
        args: list[EncodableT] = [self.prefix, repr(self.clock.now()), self.queue_limit, blob, event_id]
        args += [self._deadline(), *audience]
        return self._publish(keys=[], args=args)

    async def _publish_now(self, event_id: str, blob: bytes, audience: tuple[str, ...]) -> None:
        if await self._circuit.call(lambda: self._publish_call(event_id, blob, audience)) == b"late":
            self._refused_late()

    async def _recover(self) -> None:
        """Once Redis answers again (the circuit still open): undo the takes whose answer was
        lost, then publish the events held meanwhile, oldest first."""
        while self._unsure_takes:
            session_id, take_id = self._unsure_takes[-1]
            args = [self.prefix, repr(self.clock.now()), session_id, take_id]
            async with asyncio.timeout(self._circuit.timeout):
                await self._untake(keys=[], args=args)
            self._unsure_takes.pop()
        await self._publish_held()

    async def _publish_held(self) -> None:
        """Publish the events held during an outage, oldest first (the circuit is still open)."""
        while self._held:
            async with asyncio.timeout(self._circuit.timeout):
                reply = await self._publish_call(*self._held[0])
            if reply == b"late":
                raise TimeoutError("Redis ran a held event's publish after its deadline")
            self._held.popleft()

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
        take_id = new_id("tak")
        try:
            reply = await self._live(
                self._take_script,
                session_id,
                max_events,
                -1 if after is None else after,
                repr(hold),
                self.retain_delivered,
                self._deadline(),
                take_id,
            )
        except Unavailable:
            # It may have run with its answer lost (Redis stopped before answering, or answered
            # too late): whatever it handed out goes back to the session once Redis answers.
            if len(self._unsure_takes) < HELD_LIMIT:
                self._unsure_takes.append((session_id, take_id))
            raise
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
        try:
            blob = await self._run(self._stop, *key)
        except Unavailable:
            # Called once a message is stored, whose answer must not fail for it: the indicator
            # then ends at its expiry instead (typing_expire), which the timers run.
            return None
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
        return await self._circuit.call(lambda: script(keys=[], args=[self.prefix, repr(now), *args]))


def _session(session_id: str, fields: list[bytes]) -> StreamSession:
    org_id, owner, created_at, delay, ack = (f.decode() for f in fields)
    return StreamSession(session_id, org_id, owner, float(created_at), int(delay), ack == "1")
