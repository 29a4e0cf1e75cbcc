"""The SMS channel (contract 7): handsets' messages in, agents' messages out, receipts, opt-outs.

Inbound: an SMS to one of an organization's numbers joins the open SMS interaction of its
sender or starts one that is routed like a chat; STOP and START words change the sender's
opt-out instead and are answered with one confirmation. Outbound: an agent's text or URL is
checked (segments, opt-out) before it is stored, written to the outbox once stored, and sent
in the background; a gateway that is down is retried with backoff until the retry budget is
spent, then the users see ``messaging.DeliveryStatus`` failed. Delivery reports become the
same event. Nothing but the outbox row is needed to send or retry, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from parley.clock import Clock
from parley.domain import events
from parley.domain.errors import InvalidRequest, NotFound, ParleyError, Problem, RuleViolation, Unavailable
from parley.domain.ids import new_id
from parley.domain.interactions import ChannelType, EntityType, Interaction, Message
from parley.domain.phone import normalize_e164
from parley.domain.sms import OptKeyword, check_sms_length, opt_keyword, plan_sms
from parley.domain.sms_records import (
    DeliveryReport,
    InboundSms,
    OptChange,
    OptState,
    OutboxState,
    PartReport,
    SmsNumber,
    SmsOutbound,
    combined_state,
    moves_forward,
    retry_delay,
)
from parley.service import lifecycle
from parley.service.accounts import Accounts
from parley.service.counters import COUNTS
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.ports import EventEngine, SmsGatewayError, SmsTransport, Store

log = logging.getLogger("parley.sms")

REPLIES: dict[OptKeyword, str] = {
    "stop": "You will get no more messages from this number. Reply START to get them again.",
    "start": "You will get messages from this number again. Reply STOP to stop them.",
}
SENDER_NUMBER = "smsNumber"  # contact_data key: the organization's number the handset wrote to
LEASE_SECONDS = 60.0  # an attempt in flight holds its message this long (a crashed sender's is retried)
MAX_BACKOFF_SECONDS = 600.0
SCAN_SECONDS = 1.0  # how often the outbox is searched for retries other senders left
DUE_BATCH = 100


@dataclass(frozen=True, slots=True)
class SmsPolicy:
    retry_attempts: int = 5
    retry_backoff_seconds: float = 2.0
    default_region: str | None = None


def to_e164(raw: str, region: str | None, scope: str) -> str:
    """A number as a gateway gives it: E.164, national in ``region``, or international digits
    without the ``+`` (which SMSCs often send for numbers of international type)."""
    try:
        return normalize_e164(raw, region, scope=scope)
    except InvalidRequest:
        digits = raw.strip()
        if digits.isdigit() and len(digits) > 7:
            return normalize_e164("+" + digits, None, scope=scope)
        raise


def masked(number: str) -> str:
    """A handset's number as logs show it: enough to tell numbers apart, not to dial one."""
    return number[:4] + "*" * max(0, len(number) - 7) + number[-3:]


def refuse_sms(interaction: Interaction, text: str) -> None:
    """The text check of SMS conversations while no gateway is configured: nothing is stored
    that could not be sent."""
    raise Unavailable(
        Problem("interactionId", "smsUnavailable", "SMS is not configured on this server (PARLEY_SMS_GATEWAY)"),
        retry_after=60,
    )


class SmsNumbers:
    """The sender numbers each organization owns (the ``parley admin number`` commands)."""

    def __init__(self, store: Store, clock: Clock, region: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.region = region

    async def add(self, org_id: str, raw: str) -> SmsNumber:
        await Accounts(self.store, self.clock).require_organization(org_id)
        number = SmsNumber(normalize_e164(raw, self.region, scope="number"), org_id, self.clock.now())
        owner = await self.store.get_sms_number(number.number)
        if owner is not None:
            raise RuleViolation.of(
                "number", "duplicateSmsNumber", f"{number.number} already belongs to organization {owner.org_id}"
            )
        await self.store.add_sms_number(number)
        return number

    async def remove(self, org_id: str, raw: str) -> str:
        number = normalize_e164(raw, self.region, scope="number")
        if not await self.store.remove_sms_number(org_id, number):
            raise NotFound.of("number", "notFound", f"organization {org_id} has no number {number}")
        return number

    async def list(self, org_id: str) -> list[SmsNumber]:
        await Accounts(self.store, self.clock).require_organization(org_id)
        return await self.store.list_sms_numbers(org_id)


class SmsChannel:
    def __init__(
        self,
        store: Store,
        engine: EventEngine,
        clock: Clock,
        book: InteractionBook,
        engagement: Engagement,
        messaging: Messaging,
        transport: SmsTransport,
        policy: SmsPolicy,
    ) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock
        self.book = book
        self.engagement = engagement
        self.messaging = messaging
        self.transport = transport
        self.policy = policy
        self._sending: dict[str, asyncio.Task[None]] = {}  # message id -> its attempt
        self._last_to: dict[str, asyncio.Task[None]] = {}  # handset -> the latest attempt for it
        self._locks = KeyedLocks()
        self._next_scan = 0.0
        self._retries: list[float] = []  # when this process's failed attempts are due again (a heap)

    # -- inbound ---------------------------------------------------------------------------------
    async def receive(self, sms: InboundSms) -> bool:
        """Take a handset's SMS; False when it repeats one already taken (same gateway id)."""
        region = self.policy.default_region
        receiver = to_e164(sms.receiver, region, "to")
        owner = await self.store.get_sms_number(receiver)
        if owner is None:
            log.warning("refused an SMS from %s to %s: no organization has that number", masked(sms.sender), receiver)
            raise NotFound.of(
                "to",
                "unknownNumber",
                f"no organization has the number {receiver}; add it with 'parley admin number add'",
            )
        try:
            sender = to_e164(sms.sender, region, "from")
        except ParleyError:
            log.warning("refused an SMS to %s from %s: not a phone number", receiver, masked(sms.sender))
            raise
        if not await self.store.claim_inbound_sms(sms.gateway_id, owner.org_id, self.clock.now()):
            log.info("ignored SMS %s to %s: already taken", sms.gateway_id, receiver)
            return False
        try:
            async with self._locks.hold(f"{owner.org_id}|{sender}"):
                await self._take(owner, sender, sms.text)
        except BaseException:
            await self.store.release_inbound_sms(sms.gateway_id)
            raise
        COUNTS.sms_counted("inbound", "received")
        return True

    async def _take(self, owner: SmsNumber, sender: str, text: str) -> None:
        interaction = self._open_interaction(owner.org_id, sender)
        keyword = opt_keyword(text)
        if keyword is not None:
            if interaction is not None:
                await self._post_contact(interaction, text)
            await self._change_opt(owner, sender, keyword, text)
            return
        if interaction is not None:
            await self._post_contact(interaction, text)
            return
        interaction = Interaction(
            interaction_id=new_id("int"),
            org_id=owner.org_id,
            channel_type=ChannelType.SMS,
            contact_id=new_id("ctc"),
            contact_name=sender,
            created_at=self.clock.now(),
            contact_address=sender,
            contact_data={SENDER_NUMBER: owner.number},
        )
        await self.book.add(interaction)
        await self._post_contact(interaction, text)
        await self.engagement.enqueue(interaction)

    def _open_interaction(self, org_id: str, number: str) -> Interaction | None:
        for interaction in self.book.open_in(org_id):
            if interaction.channel_type is ChannelType.SMS and interaction.contact_address == number:
                return interaction
        return None

    async def _post_contact(self, interaction: Interaction, text: str) -> None:
        await self.messaging.add_text(interaction, text, EntityType.CONTACT, interaction.contact_name, to_contact=False)

    async def _change_opt(self, owner: SmsNumber, sender: str, keyword: OptKeyword, text: str) -> None:
        wanted: OptState = "out" if keyword == "stop" else "in"
        history = await self.store.opt_history(owner.org_id, sender)
        if (history[-1].state if history else "in") != wanted:
            await self.store.add_opt_change(OptChange(owner.org_id, sender, wanted, text.strip(), self.clock.now()))
            log.info("%s opted %s of SMS from %s", masked(sender), wanted, owner.org_id)
        await self._queue(owner.org_id, "", new_id("msg"), sender, owner.number, REPLIES[keyword])

    # -- outbound --------------------------------------------------------------------------------
    async def check_text(self, interaction: Interaction, text: str) -> None:
        """Before a user's text or URL is stored: it must fit, and the handset must not have opted out."""
        check_sms_length(text)
        number = interaction.contact_address
        history = await self.store.opt_history(interaction.org_id, number)
        if history and history[-1].state == "out":
            raise RuleViolation.of(
                "interactionId",
                "optedOut",
                f"{number} opted out of SMS ({history[-1].keyword!r}); nothing can be sent to it until it "
                "replies START",
            )
        owner = await self.store.get_sms_number(self._sender_number(interaction))
        if owner is None or owner.org_id != interaction.org_id:
            raise RuleViolation.of(
                "interactionId",
                "noSenderNumber",
                f"the number {self._sender_number(interaction)} this conversation uses is no longer the organization's",
            )

    async def deliver(self, interaction: Interaction, message: Message) -> None:
        """After a user's message is stored: into the outbox, then to the gateway in the background."""
        await self._queue(
            interaction.org_id,
            interaction.interaction_id,
            message.message_id,
            interaction.contact_address,
            self._sender_number(interaction),
            message.body,
        )

    @staticmethod
    def _sender_number(interaction: Interaction) -> str:
        return str(interaction.contact_data.get(SENDER_NUMBER, ""))

    async def _queue(self, org_id: str, interaction_id: str, message_id: str, to: str, sender: str, text: str) -> None:
        now = self.clock.now()
        outbound = SmsOutbound(
            message_id,
            org_id,
            interaction_id,
            to,
            sender,
            text,
            segments=plan_sms(text).segment_count,
            attempts=1,  # the first attempt starts now, claimed as the row is written
            next_attempt_at=now + LEASE_SECONDS,
            state=OutboxState.QUEUED,
            created_at=now,
            updated_at=now,
        )
        await self.store.add_sms_outbound(outbound)
        self._start(outbound)

    def _start(self, outbound: SmsOutbound) -> None:
        # One handset's messages leave in the order they were written, even while one is slow.
        previous = self._last_to.get(outbound.to_number)
        task = asyncio.create_task(self._attempt_after(previous, outbound), name=f"sms-{outbound.message_id}")
        self._sending[outbound.message_id] = self._last_to[outbound.to_number] = task

        def done(finished: asyncio.Task[None]) -> None:
            self._sending.pop(outbound.message_id, None)
            if self._last_to.get(outbound.to_number) is finished:
                del self._last_to[outbound.to_number]

        task.add_done_callback(done)

    async def _attempt_after(self, previous: asyncio.Task[None] | None, outbound: SmsOutbound) -> None:
        if previous is not None:
            await asyncio.wait([previous])  # however it ended
        try:
            await self._attempt(outbound)
        except Exception:
            # The outbox row keeps the message; the lease runs out and the next tick retries it.
            log.exception("SMS %s: attempt %d failed unexpectedly", outbound.message_id, outbound.attempts)

    async def _attempt(self, outbound: SmsOutbound) -> None:
        try:
            await self.transport.send(
                outbound.from_number, outbound.to_number, outbound.body, message_id=outbound.message_id
            )
        except SmsGatewayError as exc:
            await self._attempt_failed(outbound, exc)
            return
        await self.store.reschedule_sms_outbound(outbound.message_id, None, "", self.clock.now())
        lifecycle.sms("sent", outbound.org_id, outbound.message_id, outbound.segments)

    async def _attempt_failed(self, outbound: SmsOutbound, exc: SmsGatewayError) -> None:
        now = self.clock.now()
        if exc.temporary and outbound.attempts < self.policy.retry_attempts:
            delay = retry_delay(self.policy.retry_backoff_seconds, outbound.attempts, MAX_BACKOFF_SECONDS)
            log.warning(
                "SMS %s: attempt %d failed (%s); retry in %.1f s", outbound.message_id, outbound.attempts, exc, delay
            )
            await self.store.reschedule_sms_outbound(outbound.message_id, now + delay, str(exc), now)
            heapq.heappush(self._retries, now + delay)
            return
        reason = "gatewayUnavailable" if exc.temporary else "gatewayRefused"
        log.warning("SMS %s failed after %d attempts: %s", outbound.message_id, outbound.attempts, exc)
        await self._finish(outbound, OutboxState.FAILED, exc.status, str(exc), reason)

    async def tick(self) -> None:
        """Retry what is due: this process's failed attempts, and any whose sender went away."""
        now = self.clock.now()
        retry_due = bool(self._retries) and self._retries[0] <= now
        while self._retries and self._retries[0] <= now:
            heapq.heappop(self._retries)
        if now < self._next_scan and not retry_due:
            return
        self._next_scan = now + SCAN_SECONDS
        for outbound in await self.store.due_sms_outbound(now, DUE_BATCH):
            if outbound.message_id in self._sending:
                continue
            if outbound.attempts >= self.policy.retry_attempts:
                # Its last attempt never reported back (its sender stopped): that was the budget.
                await self._finish(outbound, OutboxState.FAILED, None, outbound.error, "gatewayUnavailable")
                continue
            lease = now + LEASE_SECONDS
            if await self.store.claim_sms_outbound(outbound.message_id, outbound.attempts, lease, now):
                self._start(dataclasses.replace(outbound, attempts=outbound.attempts + 1, next_attempt_at=lease))

    # -- delivery reports ------------------------------------------------------------------------
    async def report(self, report: DeliveryReport) -> None:
        """A gateway's delivery report; repeats and reports that change nothing are ignored."""
        outbound = await self.store.get_sms_outbound(report.message_id)
        if outbound is None:
            log.warning("ignored a delivery report for unknown SMS %s", report.message_id)
            raise NotFound.of("messageId", "notFound", f"no SMS {report.message_id} was sent")
        if report.state is None:
            return
        part = PartReport(report.message_id, report.part or 1, report.state, report.code, self.clock.now())
        if not await self.store.add_sms_report(part):
            return
        async with self._locks.hold(report.message_id):
            current = await self.store.get_sms_outbound(report.message_id) or outbound
            state, code = combined_state(current.segments, await self.store.sms_reports(report.message_id))
            if moves_forward(current.state, state):
                failed = state is OutboxState.FAILED
                reason = "deliveryFailed" if failed else None
                await self._finish(current, state, code, report.answer if failed else "", reason)

    async def _finish(
        self, outbound: SmsOutbound, state: OutboxState, code: int | None, error: str, reason: str | None
    ) -> None:
        await self.store.set_sms_outbound_state(outbound.message_id, state, code, error, self.clock.now())
        if state is not OutboxState.SENT:  # "sent" was said when the gateway took it
            lifecycle.sms(state.value, outbound.org_id, outbound.message_id, outbound.segments, reason or "")
        if not outbound.interaction_id:
            return  # a reply to STOP or START: no conversation to tell
        interaction = await self.book.get(outbound.org_id, outbound.interaction_id)
        payload = events.delivery_status_payload(
            outbound.interaction_id, outbound.message_id, state.value, outbound.segments, code, reason
        )
        await self.engine.publish(
            outbound.org_id, events.audience(interaction, contact=False), events.DELIVERY_STATUS, payload
        )

    # -- running ---------------------------------------------------------------------------------
    async def settle(self) -> None:
        """Wait until no attempt is in flight (tests; shutdown)."""
        while self._sending:
            await asyncio.gather(*list(self._sending.values()), return_exceptions=True)

    async def close(self, timeout: float = 5.0) -> None:
        """Let attempts in flight finish for up to ``timeout``; the outbox keeps the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settle(), timeout)
        left = list(self._sending.values())
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        await self.transport.aclose()


class KeyedLocks:
    """An asyncio lock per key, forgotten once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
