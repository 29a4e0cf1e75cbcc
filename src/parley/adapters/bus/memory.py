"""The in-process event engine: one asyncio loop holds every session, its queue and typing state.

Each session keeps one list of retained events with contiguous sequence numbers, a delivered
cursor (the highest sequence number handed out) and an acknowledgement cursor. An acknowledgement
beyond what was handed out is clamped to it. ``close`` ends waiting polls with no events.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import msgspec

from parley.adapters.bus import reasons
from parley.clock import Clock, iso
from parley.domain.ids import new_id
from parley.domain.typing import TypingKey, TypingTracker, Typist
from parley.service.ports import Envelope, Reset, SessionDropped, StreamSession

_encode_json: Final = msgspec.json.Encoder().encode
FEW_OWNERS: Final = 8  # audiences up to this size are made unique in a list
# How many reasons for gone sessions are remembered for the error message.
GONE_REMEMBERED: Final = 10_000


def _stop_waiting(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


@dataclass(slots=True, eq=False)
class _Session:
    info: StreamSession
    last_active: float
    log: list[Envelope] = field(default_factory=list)
    last_seq: int = 0
    delivered: int = 0
    acked: int = 0
    waiting: int = 0
    waiters: list[asyncio.Future[None]] = field(default_factory=list)  # polls waiting for an event
    dropped: str | None = None

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            _stop_waiting(waiter)

    @property
    def first_seq(self) -> int:
        return self.last_seq - len(self.log) + 1

    @property
    def cursor(self) -> int:
        return self.acked if self.info.require_ack else self.delivered


_NOBODY: Final[Mapping[str, _Session]] = MappingProxyType({})


class MemoryEventEngine:
    def __init__(self, clock: Clock, queue_limit: int = 10_000, retain_delivered: int = 1000) -> None:
        self.clock = clock
        self.queue_limit = queue_limit
        self.retain_delivered = retain_delivered
        self._sessions: dict[str, _Session] = {}
        self._owners: dict[tuple[str, str], dict[str, _Session]] = {}
        self._gone: OrderedDict[str, str] = OrderedDict()
        self._typing = TypingTracker()
        self._closed = False
        self._released = False  # stopping: polls no longer wait
        # No session can expire before this time, so a sweep before it looks at none of them
        # (it runs ten times a second; ten thousand idle sessions cost nothing between expiries).
        self._sweep_from = 0.0

    async def start(self) -> None:
        self._closed = False
        self._released = False

    async def ping(self) -> None:
        pass

    def release_waiters(self) -> None:
        self._released = True
        for session in self._sessions.values():
            session.wake()

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        self._closed = True
        for session in self._sessions.values():
            session.wake()

    # sessions

    async def create_session(self, session: StreamSession) -> None:
        live = _Session(session, self.clock.monotonic())
        self._sweep_from = min(self._sweep_from, live.last_active + session.inactivity_delay)
        self._sessions[session.session_id] = live
        self._owners.setdefault((session.org_id, session.owner), {})[session.session_id] = live
        self._gone.pop(session.session_id, None)

    async def get_session(self, session_id: str) -> StreamSession:
        return self._live(session_id).info

    async def delete_session(self, session_id: str) -> StreamSession | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        self._drop(session, reasons.DELETED)
        return session.info

    async def sessions_of(self, org_id: str, owner: str) -> list[str]:
        now = self.clock.monotonic()
        sessions = self._owners.get((org_id, owner), _NOBODY)
        return [sid for sid, s in sessions.items() if not self._expired(s, now)]

    async def touch(self, session_id: str) -> None:
        self._live(session_id).last_active = self.clock.monotonic()

    async def sweep(self) -> list[StreamSession]:
        now = self.clock.monotonic()
        if now < self._sweep_from:
            return []
        idle: list[_Session] = []
        soonest = math.inf
        for session in self._sessions.values():
            # A waiting session's clock restarts when its poll ends, later than now.
            expires = session.last_active if not session.waiting else now
            expires += session.info.inactivity_delay
            if self._expired(session, now):
                idle.append(session)
            elif expires < soonest:
                soonest = expires
        self._sweep_from = soonest
        for session in idle:
            self._drop(session, reasons.expired(session.info.inactivity_delay))
        return [s.info for s in idle]

    # events

    async def publish(self, org_id: str, owners: Sequence[str], event_type: str, payload: dict[str, Any]) -> None:
        # One event id per published event: every session that receives it names it the same.
        event_id = ""
        event_time = ""
        payload_json = b""
        behind: list[_Session] = []
        for owner in _unique(owners):
            for session in self._owners.get((org_id, owner), _NOBODY).values():
                if not event_id:
                    event_id = new_id("evt")
                    event_time = iso(self.clock.now())
                    payload_json = _encode_json(payload)  # once, for every session
                session.last_seq += 1
                session.log.append(Envelope(event_id, session.last_seq, event_type, event_time, payload, payload_json))
                if session.last_seq - session.cursor > self.queue_limit:
                    behind.append(session)
                elif session.waiters:
                    session.wake()
        for session in behind:
            self._drop(session, reasons.fell_behind(self.queue_limit))

    async def next_events(
        self,
        session_id: str,
        max_events: int,
        timeout: float,
        after: int | None = None,
    ) -> list[Envelope | Reset]:
        session = self._live(session_id)
        session.last_active = self.clock.monotonic()
        batch = self._take(session, max_events, after)
        if batch or timeout <= 0 or self._released:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        session.waiting += 1
        try:
            while not batch and not self._closed and not self._released and (left := deadline - loop.time()) > 0:
                # A bare future and a timer: cheaper than an Event under asyncio.timeout, and a
                # poll is waited for once per event when events come one at a time.
                waiter: asyncio.Future[None] = loop.create_future()
                session.waiters.append(waiter)
                timer = loop.call_later(left, _stop_waiting, waiter)
                try:
                    await waiter
                finally:
                    timer.cancel()
                    if waiter in session.waiters:
                        session.waiters.remove(waiter)
                if session.dropped is not None:
                    raise SessionDropped(session.dropped)
                batch = self._take(session, max_events, after)
        finally:
            session.waiting -= 1
            session.last_active = self.clock.monotonic()
        return batch

    async def acknowledge(self, session_id: str, sequence_number: int) -> None:
        session = self._live(session_id)
        upto = min(sequence_number, session.delivered)
        if not session.info.require_ack or upto <= session.acked:
            return
        del session.log[: upto - session.first_seq + 1]
        session.acked = upto

    # typing

    async def typing_composing(self, key: TypingKey, expires_after: int, now: float, typist: Typist) -> bool:
        return self._typing.composing(key, expires_after, now, typist)

    async def typing_stop(self, key: TypingKey) -> Typist | None:
        return self._typing.stop(key)

    async def typing_stop_interaction(self, interaction_id: str) -> list[tuple[TypingKey, Typist]]:
        return self._typing.stop_interaction(interaction_id)

    async def typing_expire(self, now: float) -> list[tuple[TypingKey, Typist]]:
        return self._typing.expire(now)

    # internals

    def _live(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionDropped(self._gone.get(session_id, reasons.UNKNOWN))
        if self._expired(session, self.clock.monotonic()):
            # ``sweep`` removes it and reports it; until then it only refuses to serve.
            raise SessionDropped(reasons.expired(session.info.inactivity_delay))
        return session

    @staticmethod
    def _expired(session: _Session, now: float) -> bool:
        return not session.waiting and now - session.last_active > session.info.inactivity_delay

    def _take(self, session: _Session, max_events: int, after: int | None) -> list[Envelope | Reset]:
        first = session.first_seq
        batch: list[Envelope | Reset] = []
        if after is None:
            start = session.cursor + 1
        else:
            if after + 1 < first and after < session.last_seq:
                batch.append(Reset(first))
            start = max(after + 1, first)
        stop = min(session.last_seq, start + max_events - 1)
        if stop < start:
            return batch
        batch.extend(session.log[start - first : stop - first + 1])
        session.delivered = max(session.delivered, stop)
        if not session.info.require_ack:
            keep_from = session.delivered - self.retain_delivered + 1
            if keep_from > first:
                del session.log[: keep_from - first]
        return batch

    def _drop(self, session: _Session, reason: str) -> None:
        info = session.info
        del self._sessions[info.session_id]
        owned = self._owners[(info.org_id, info.owner)]
        del owned[info.session_id]
        if not owned:
            del self._owners[(info.org_id, info.owner)]
        session.dropped = reason
        self._gone[info.session_id] = reason
        if len(self._gone) > GONE_REMEMBERED:
            self._gone.popitem(last=False)
        session.wake()


def _unique(owners: Sequence[str]) -> Sequence[str]:
    """``owners`` without repeats, in order; an audience is usually a handful, checked in a list."""
    if len(owners) > FEW_OWNERS:
        return list(dict.fromkeys(owners))
    unique: list[str] = []
    for owner in owners:
        if owner not in unique:
            unique.append(owner)
    return unique
