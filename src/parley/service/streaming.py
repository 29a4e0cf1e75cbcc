"""Streaming sessions: create, check, poll, acknowledge, end (contract 4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from parley.clock import Clock
from parley.domain import events
from parley.domain.errors import InvalidRequest
from parley.domain.ids import new_id
from parley.service import lifecycle
from parley.service.ports import Envelope, EventEngine, Reset, SessionDropped, StreamSession

MIN_INACTIVITY: Final = 10
MAX_INACTIVITY: Final = 600
CONTACT_INACTIVITY: Final = 60

# Called with (org id, user id) when a user's last streaming session ends.
UserGone = Callable[[str, str], Awaitable[None]]


def invalid_session(message: str) -> InvalidRequest:
    return InvalidRequest.of("via-client-sessionid", "invalidSession", message)


class Streaming:
    def __init__(self, engine: EventEngine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self.on_user_gone: list[UserGone] = []
        self._draining = False

    @property
    def stopping(self) -> bool:
        """The server is stopping; open streams should end (their clients resume elsewhere)."""
        return self._draining or self.engine.closed

    def drain(self) -> None:
        """End every long poll, SSE stream and WebSocket with what it holds (contract 11)."""
        self._draining = True
        self.engine.release_waiters()

    async def open_for_user(self, org_id: str, user_id: str, inactivity_delay: int, require_ack: bool) -> StreamSession:
        return await self._open(org_id, events.user_owner(user_id), inactivity_delay, require_ack)

    async def open_for_contact(self, org_id: str, contact_id: str) -> StreamSession:
        return await self._open(org_id, events.contact_owner(contact_id), CONTACT_INACTIVITY, False)

    async def _open(self, org_id: str, owner: str, inactivity_delay: int, require_ack: bool) -> StreamSession:
        session = StreamSession(new_id("ses"), org_id, owner, self.clock.now(), inactivity_delay, require_ack)
        await self.engine.create_session(session)
        return session

    async def require(self, org_id: str, session_id: str | None, owner: str | None = None) -> StreamSession:
        """The caller's live session; ``owner`` set means it must also be that owner's."""
        if not session_id:
            raise InvalidRequest.of(
                "via-client-sessionid", "missingSession", "the via-client-sessionid header is required"
            )
        try:
            session = await self.engine.get_session(session_id)
        except SessionDropped as exc:
            raise invalid_session(f"streaming session {session_id} is not valid: {exc.reason}") from None
        if session.org_id != org_id:
            raise invalid_session(f"streaming session {session_id} is not valid: unknown session")
        if owner is not None and session.owner != owner:
            raise invalid_session(f"streaming session {session_id} belongs to someone else")
        return session

    async def require_user_session(self, org_id: str, session_id: str | None) -> StreamSession:
        """The caller's live session, which must be a user's: the agent side refuses a customer's."""
        session = await self.require(org_id, session_id)
        if session.user_id is None:
            raise invalid_session(f"streaming session {session_id} is not a user's session")
        return session

    async def next_events(
        self, session: StreamSession, max_events: int, timeout: float, after: int | None = None
    ) -> list[Envelope | Reset]:
        try:
            return await self.engine.next_events(session.session_id, max_events, timeout, after)
        except SessionDropped as exc:
            lifecycle.session_dropped(session.org_id, session.session_id, session.owner, exc.reason)
            await self._ended(session)
            raise invalid_session(f"streaming session {session.session_id} was dropped: {exc.reason}") from None

    async def acknowledge(self, session: StreamSession, sequence_number: int) -> None:
        await self.engine.acknowledge(session.session_id, sequence_number)

    async def close(self, session: StreamSession) -> None:
        if await self.engine.delete_session(session.session_id) is not None:
            await self._ended(session)

    async def tick(self) -> None:
        for session in await self.engine.sweep():
            reason = f"expired after {session.inactivity_delay} s without a poll"
            lifecycle.session_dropped(session.org_id, session.session_id, session.owner, reason)
            await self._ended(session)

    async def _ended(self, session: StreamSession) -> None:
        user_id = session.user_id
        if user_id is None:
            return
        if not await self.engine.sessions_of(session.org_id, session.owner):
            for callback in self.on_user_gone:
                await callback(session.org_id, user_id)
