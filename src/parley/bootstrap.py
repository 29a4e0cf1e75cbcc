"""The one place that builds Parley: adapters from Settings, injected into the use cases."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from parley.api.app import ParleyASGI
from parley.api.gate import WEBTOKEN_ORG_FACTOR, AgentPolicy, CustomerPolicy, Gate
from parley.api.http import ClientTimeouts
from parley.api.idempotency import Idempotency
from parley.clock import Clock, SystemClock
from parley.domain.errors import Unavailable
from parley.domain.interactions import ChannelType
from parley.service.abandoned import AbandonedChats
from parley.service.accounts import Accounts
from parley.service.counters import COUNTS
from parley.service.engagement import Engagement
from parley.service.health import Health
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.overview import Overview
from parley.service.ports import EventEngine, SmsTransport, Store, WebhookSender
from parley.service.ratelimit import TokenBuckets
from parley.service.retention import Retention
from parley.service.signin import SignIn
from parley.service.sms import SmsChannel, SmsPolicy, refuse_sms
from parley.service.streaming import Streaming
from parley.service.tokens import Authenticator, FailedAuthentications, TokenService
from parley.service.typing import Typing
from parley.service.webchat import WebChat
from parley.service.webhook_delivery import WebhookDeliverer
from parley.service.webhooks import Webhooks
from parley.settings import Settings

log = logging.getLogger("parley")

TICK_SECONDS = 0.1
PRESENCE_EVERY_TICKS = 10
PURGE_EVERY_SECONDS = 3600.0
IDEMPOTENCY_RETENTION = 24 * 3600.0
SLOW_STOP_SECONDS = 5.0


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
    overview: Overview
    messaging: Messaging
    streaming: Streaming
    webchat: WebChat
    gate: Gate
    health: Health
    signin: SignIn
    abandoned: AbandonedChats
    webhooks: Webhooks
    webhook_deliverer: WebhookDeliverer
    sms: SmsChannel | None = None  # None: no SMS gateway configured
    retention: Retention | None = None  # None: PARLEY_RETENTION_DAYS unset, keep everything
    _ticker: asyncio.Task[None] | None = field(default=None, init=False)
    _purger: asyncio.Task[None] | None = field(default=None, init=False)
    _ticks: int = field(default=0, init=False)
    _stopping: bool = field(default=False, init=False)

    async def start(self, run_timers: bool = True) -> None:
        await self.store.start()
        await self.engine.start()
        await self.webchat.start()
        await self.engagement.recover(await self.book.load())
        await self.webhooks.refresh()
        if run_timers:
            self._stopping = False
            self._ticker = asyncio.create_task(self._tick_forever(), name="parley-timers")
            if self.retention is not None:
                self._purger = asyncio.create_task(self.retention.run_daily(), name="parley-retention")

    def drain(self) -> None:
        """The first step of a stop, before open connections are asked to close (contract 11)."""
        self.streaming.drain()

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            await _stop_step("the retention purge", _ended(self._purger))
            self._purger = None
        if self._ticker is not None:
            # The flag ends the timers even if the cancellation is lost on the way: a library
            # awaited inside a step may swallow it (redis-py has), which left the task ticking
            # and the stop waiting for it forever.
            self._stopping = True
            self._ticker.cancel()
            await _stop_step("the timers", _ended(self._ticker))
            self._ticker = None
        if self.sms is not None:
            await _stop_step("the SMS channel", self.sms.close())
        await _stop_step("the webhook deliveries", self.webhook_deliverer.close())
        await _stop_step("the event engine", self.engine.close())
        await _stop_step("the store", self.store.close())

    async def tick(self) -> None:
        """Run every timer that is due: offer timeouts, typing expiry, idle sessions, abandoned
        chats, SMS and webhook retries."""
        await self.engagement.tick()
        await self.typing.tick()
        await self.streaming.tick()
        await self.abandoned.tick()
        if self.sms is not None:
            await self.sms.tick()
        await self.webhook_deliverer.tick()
        self._ticks += 1
        if self._ticks % PRESENCE_EVERY_TICKS == 0:
            await self.engagement.check_presence()

    async def _tick_forever(self) -> None:
        next_purge = 0.0
        while not self._stopping:
            try:
                await self.tick()
                if self.clock.monotonic() >= next_purge:
                    next_purge = self.clock.monotonic() + PURGE_EVERY_SECONDS
                    await self.store.purge_idempotency(self.clock.now() - IDEMPOTENCY_RETENTION)
            except Unavailable:
                pass  # a dependency is down (its adapter logged it); the next tick tries again
            except Exception:
                log.exception("timer step failed")
            await asyncio.sleep(TICK_SECONDS)

    def asgi(self) -> ParleyASGI:
        from parley.adapters.channels import open_sms_webhooks
        from parley.api.routes import build_routers
        from parley.api.routes.metrics import MetricsEndpoint

        metrics = None
        if self.settings.metrics:
            metrics = MetricsEndpoint(self.settings.metrics_token, self.store.count_open_interactions, self.clock)

        router, websockets = build_routers(
            gate=self.gate,
            tokens=self.tokens,
            accounts=self.accounts,
            book=self.book,
            engagement=self.engagement,
            messaging=self.messaging,
            streaming=self.streaming,
            webchat=self.webchat,
            sms=self.sms,
            sms_webhooks=None if self.sms is None else open_sms_webhooks(self.settings.sms_webhook_secret),
            health=self.health,
            overview=self.overview,
            signin=self.signin,
            metrics=metrics,
            webhooks=self.webhooks,
        )
        return ParleyASGI(
            router,
            self.settings.max_body_bytes,
            websockets,
            on_startup=[self.start],
            on_shutdown=[self.stop],
            cors_origins=self.settings.cors_origins,
            timeouts=ClientTimeouts(
                self.settings.request_head_timeout_seconds,
                self.settings.request_body_timeout_seconds,
                self.settings.send_timeout_seconds,
            ),
        )


async def _ended(task: asyncio.Task[None]) -> None:
    """Wait for a task told to stop, however it ends (its error, if any, is logged)."""
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        log.error("%s ended with an error", task.get_name(), exc_info=task.exception())


async def _stop_step(name: str, step: Coroutine[Any, Any, None]) -> None:
    """Run one step of a stop to its end, saying which one if it is slow (an operator waits on it)."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=SLOW_STOP_SECONDS)
    if not done:
        log.warning("stopping: %s is taking longer than %.0f s", name, SLOW_STOP_SECONDS)
    await task


def build(
    settings: Settings,
    clock: Clock | None = None,
    store: Store | None = None,
    engine: EventEngine | None = None,
    sms_transport: SmsTransport | None = None,
    webhook_sender: WebhookSender | None = None,
) -> Parley:
    """``sms_transport`` replaces the gateway named by ``settings.sms_gateway`` (tests);
    ``webhook_sender`` the HTTP client of webhook deliveries."""
    from parley.adapters.bus import open_event_engine
    from parley.adapters.storage import open_store

    COUNTS.enabled = settings.metrics
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
    webchat = WebChat(store, clock, accounts, book, engagement, settings.web_token_seconds)
    customers = CustomerPolicy(
        webchat,
        TokenBuckets(clock, settings.webtoken_rate_per_second, settings.webtoken_rate_burst),
        TokenBuckets(
            clock,
            settings.webtoken_rate_per_second * WEBTOKEN_ORG_FACTOR,
            settings.webtoken_rate_burst * WEBTOKEN_ORG_FACTOR,
        ),
    )
    gate = Gate(
        AgentPolicy(auth),
        customers,
        TokenBuckets(clock, settings.rate_limit_per_second, settings.rate_limit_burst),
        TokenBuckets(clock, settings.rate_limit_per_second, settings.rate_limit_burst),
        Idempotency(store, clock),
    )
    webhooks = Webhooks(store, clock, settings.webhook_allow_private)
    if webhook_sender is None:
        from parley.adapters.webhooks.http import HttpWebhookSender

        webhook_sender = HttpWebhookSender(settings.webhook_allow_private)
    messaging = Messaging(store, engine, clock, book, typing, webhooks)
    sms = _sms_channel(settings, store, engine, clock, book, engagement, messaging, sms_transport)
    return Parley(
        settings=settings,
        clock=clock,
        store=store,
        engine=engine,
        accounts=accounts,
        tokens=TokenService(
            store,
            clock,
            FailedAuthentications(clock, settings.token_failure_rate_per_second, settings.token_failure_burst),
            settings.token_cache_seconds,
        ),
        auth=auth,
        book=book,
        typing=typing,
        engagement=engagement,
        overview=Overview(store, accounts, book, engagement),
        messaging=messaging,
        streaming=streaming,
        webchat=webchat,
        gate=gate,
        health=Health({"storage": store.ping, "events": engine.ping}, lambda: streaming.stopping),
        retention=None if settings.retention_days is None else Retention(store, clock, settings.retention_days),
        signin=SignIn(store, clock, accounts, auth),
        abandoned=AbandonedChats(
            engine, clock, book, engagement, messaging, settings.queue_timeout_seconds, settings.queue_timeout_message
        ),
        webhooks=webhooks,
        webhook_deliverer=WebhookDeliverer(store, clock, webhooks, webhook_sender),
        sms=sms,
    )


def _sms_channel(
    settings: Settings,
    store: Store,
    engine: EventEngine,
    clock: Clock,
    book: InteractionBook,
    engagement: Engagement,
    messaging: Messaging,
    transport: SmsTransport | None,
) -> SmsChannel | None:
    if transport is None and settings.sms_gateway:
        from parley.adapters.channels import open_sms_transport

        transport = open_sms_transport(settings.sms_gateway, settings.sms_webhook_base, settings.sms_webhook_secret)
    if transport is None:
        messaging.text_checks[ChannelType.SMS] = refuse_sms
        return None
    policy = SmsPolicy(
        settings.sms_retry_attempts, settings.sms_retry_backoff_seconds, settings.sms_default_region or None
    )
    sms = SmsChannel(store, engine, clock, book, engagement, messaging, transport, policy)
    messaging.text_checks[ChannelType.SMS] = sms.check_text
    messaging.deliverers[ChannelType.SMS] = sms.deliver
    return sms
