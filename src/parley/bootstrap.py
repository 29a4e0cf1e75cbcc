"""The one place that builds Parley: adapters from Settings, injected into the use cases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from parley.api.app import ParleyASGI
from parley.api.gate import Gate, Idempotency
from parley.clock import Clock, SystemClock
from parley.service.accounts import Accounts
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.ports import EventEngine, Store
from parley.service.ratelimit import TokenBuckets
from parley.service.streaming import Streaming
from parley.service.tokens import Authenticator, TokenService
from parley.service.typing import Typing
from parley.service.webchat import WebChat
from parley.settings import Settings

log = logging.getLogger("parley")

TICK_SECONDS = 0.1
PRESENCE_EVERY_TICKS = 10
PURGE_EVERY_SECONDS = 3600.0
IDEMPOTENCY_RETENTION = 24 * 3600.0
WEBTOKEN_ORG_FACTOR = 10  # an org may mint this many times one IP's rate


@dataclass
class Parley:
    settings: Settings
    clock: Clock
    store: Store
    engine: EventEngine
    accounts: Accounts
    tokens: TokenService
    auth: Authenticator
    book: InteractionBook
    typing: Typing
    engagement: Engagement
    messaging: Messaging
    streaming: Streaming
    webchat: WebChat
    gate: Gate
    webtoken_ip_buckets: TokenBuckets
    webtoken_org_buckets: TokenBuckets
    _ticker: asyncio.Task[None] | None = field(default=None, init=False)
    _ticks: int = field(default=0, init=False)

    async def start(self, run_timers: bool = True) -> None:
        await self.store.start()
        await self.engine.start()
        await self.webchat.start()
        await self.engagement.recover(await self.book.load())
        if run_timers:
            self._ticker = asyncio.create_task(self._tick_forever(), name="parley-timers")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.engine.close()
        await self.store.close()

    async def tick(self) -> None:
        """Run every timer that is due: offer timeouts, typing expiry, idle sessions."""
        await self.engagement.tick()
        await self.typing.tick()
        await self.streaming.tick()
        self._ticks += 1
        if self._ticks % PRESENCE_EVERY_TICKS == 0:
            await self.engagement.check_presence()

    async def _tick_forever(self) -> None:
        next_purge = 0.0
        while True:
            try:
                await self.tick()
                if self.clock.monotonic() >= next_purge:
                    next_purge = self.clock.monotonic() + PURGE_EVERY_SECONDS
                    await self.store.purge_idempotency(self.clock.now() - IDEMPOTENCY_RETENTION)
            except Exception:
                log.exception("timer step failed")
            await asyncio.sleep(TICK_SECONDS)

    def asgi(self) -> ParleyASGI:
        from parley.api.routes import build_routers

        router, websockets = build_routers(self)
        return ParleyASGI(
            router,
            self.settings.max_body_bytes,
            websockets,
            on_startup=[self.start],
            on_shutdown=[self.stop],
        )


def build(
    settings: Settings,
    clock: Clock | None = None,
    store: Store | None = None,
    engine: EventEngine | None = None,
) -> Parley:
    from parley.adapters.bus import open_event_engine
    from parley.adapters.storage import open_store

    clock = clock or SystemClock()
    store = store or open_store(settings.database_url)
    engine = engine or open_event_engine(settings.events_url, clock, settings.session_queue_limit)
    accounts = Accounts(store, clock)
    book = InteractionBook(store)
    typing = Typing(engine, clock, book)
    engagement = Engagement(engine, clock, book, typing, settings.offer_timeout_seconds)
    streaming = Streaming(engine, clock)
    streaming.on_user_gone.append(engagement.user_went_away)
    auth = Authenticator(store, clock, settings.token_cache_seconds)
    gate = Gate(
        auth,
        TokenBuckets(clock, settings.rate_limit_per_second, settings.rate_limit_burst),
        TokenBuckets(clock, settings.rate_limit_per_second, settings.rate_limit_burst),
        Idempotency(store, clock),
    )
    return Parley(
        settings=settings,
        clock=clock,
        store=store,
        engine=engine,
        accounts=accounts,
        tokens=TokenService(store, clock),
        auth=auth,
        book=book,
        typing=typing,
        engagement=engagement,
        messaging=Messaging(store, engine, clock, book, typing),
        streaming=streaming,
        webchat=WebChat(store, clock, accounts, book, engagement),
        gate=gate,
        webtoken_ip_buckets=TokenBuckets(clock, settings.webtoken_rate_per_second, settings.webtoken_rate_burst),
        webtoken_org_buckets=TokenBuckets(
            clock,
            settings.webtoken_rate_per_second * WEBTOKEN_ORG_FACTOR,
            settings.webtoken_rate_burst * WEBTOKEN_ORG_FACTOR,
        ),
    )
