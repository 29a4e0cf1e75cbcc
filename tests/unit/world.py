"""A whole Parley on in-memory adapters and a fake clock, and the people who use it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from parley.adapters.bus.memory import MemoryEventEngine
from parley.adapters.storage.memory import MemoryStore
from parley.bootstrap import Parley, build
from parley.domain.accounts import User
from parley.domain.interactions import Interaction
from parley.service.accounts import NewUser
from parley.service.ports import Envelope, StreamSession
from parley.settings import Settings
from tests.clock import FakeClock

ORG = "acme"
OFFER_TIMEOUT = 30.0


def build_parley(clock: FakeClock, queue_limit: int = 10_000, **settings: Any) -> Parley:
    chosen = Settings(
        database_url="memory://",
        offer_timeout_seconds=settings.pop("offer_timeout_seconds", OFFER_TIMEOUT),
        session_queue_limit=queue_limit,
        **settings,
    )
    return build(chosen, clock=clock, store=MemoryStore(), engine=MemoryEventEngine(clock, queue_limit))


@dataclass
class Contact:
    contact_id: str
    session: StreamSession
    interaction: Interaction


@dataclass
class World:
    parley: Parley
    clock: FakeClock
    org_id: str = ORG
    _counter: int = field(default=0)

    async def user(self, name: str, *roles: str) -> User:
        self._counter += 1
        new = NewUser(name, "Tester", f"{name.lower()}{self._counter}@acme.test", name, roles or ("agent",))
        return await self.parley.accounts.create_user(self.org_id, new)

    async def session(self, user: User, inactivity_delay: int = 60) -> StreamSession:
        return await self.parley.streaming.open_for_user(self.org_id, user.user_id, inactivity_delay, False)

    async def ready(self, user: User, max_concurrent: int = 1) -> None:
        await self.parley.engagement.ready(self.org_id, user.user_id, max_concurrent)

    async def chat(self, name: str = "Carol") -> Contact:
        """A customer opens web chat: a streaming session, then a queued interaction."""
        token = await self.parley.webchat.issue_token(self.org_id)
        session = await self.parley.streaming.open_for_contact(self.org_id, token.contact_id)
        interaction = await self.parley.webchat.start_chat(self.org_id, token.contact_id, name, "", {})
        return Contact(token.contact_id, session, interaction)

    async def interaction(self, interaction_id: str) -> Interaction:
        return await self.parley.book.get(self.org_id, interaction_id)

    async def events(self, session: StreamSession) -> list[Envelope]:
        """Everything waiting for the session, without waiting."""
        batch = await self.parley.streaming.next_events(session, 100, 0)
        return [e for e in batch if isinstance(e, Envelope)]

    async def kinds(self, session: StreamSession) -> list[str]:
        return [e.event_type for e in await self.events(session)]

    async def offer_of(self, session: StreamSession) -> dict[str, Any]:
        """The payload of the one offer waiting for the session."""
        offers = [e.payload for e in await self.events(session) if e.event_type == "engagementCenter.Offered"]
        assert len(offers) == 1, offers
        return offers[0]

    async def accept(self, user: User, session: StreamSession) -> str:
        """Accept the offer waiting for the session; the Active event is read too."""
        offer = await self.offer_of(session)
        await self.parley.engagement.accept(user, offer["interactionId"], offer["ehubSessionId"])
        assert await self.kinds(session) == ["engagementCenter.Active"]
        return str(offer["interactionId"])

    async def handled_chat(self, agent: User) -> tuple[str, StreamSession, Contact]:
        """A chat the agent, on a desk of its own, has accepted: (interaction id, desk, contact)."""
        desk = await self.session(agent)
        await self.ready(agent)
        contact = await self.chat()
        interaction_id = await self.accept(agent, desk)
        await self.events(contact.session)
        return interaction_id, desk, contact

    async def pass_time(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.parley.tick()


@asynccontextmanager
async def opened_world(clock: FakeClock, queue_limit: int = 10_000, **settings: Any) -> AsyncIterator[World]:
    """A started Parley whose timers run only on ``tick()``, with the organization ``acme``."""
    parley = build_parley(clock, queue_limit, **settings)
    await parley.start(run_timers=False)
    try:
        await parley.accounts.create_organization(ORG)
        yield World(parley, clock)
    finally:
        await parley.stop()
