"""Engagement center: availability, routing, offers, accept/reject, disconnect, monitor (contract 6)."""

from __future__ import annotations

from parley.clock import Clock
from parley.domain import events
from parley.domain.accounts import User
from parley.domain.errors import RuleViolation
from parley.domain.ids import new_id
from parley.domain.interactions import EntityType, Interaction, InteractionState
from parley.domain.routing import Availability, choose_user
from parley.service import lifecycle
from parley.service.interactions import InteractionBook
from parley.service.ports import EventEngine
from parley.service.typing import Typing

MAX_CONCURRENT_LIMIT = 50  # offers one user may hold at once (Ready.maxConcurrent)


class Engagement:
    def __init__(
        self,
        engine: EventEngine,
        clock: Clock,
        book: InteractionBook,
        typing: Typing,
        offer_timeout: float,
    ) -> None:
        self.engine = engine
        self.typing = typing
        self.clock = clock
        self.book = book
        self.offer_timeout = offer_timeout
        self._availability: dict[tuple[str, str], Availability] = {}
        self._queues: dict[str, list[str]] = {}
        self._offer_deadlines: dict[tuple[str, str], float] = {}

    # -- recovery ----------------------------------------------------------------------------
    async def recover(self, interactions: list[Interaction]) -> None:
        """After a restart: count what agents still hold, re-queue what was waiting or offered."""
        for interaction in sorted(interactions, key=lambda i: i.created_at):
            if interaction.state is InteractionState.OFFERED:
                interaction.withdraw_offer(declined=False)
                await self.book.save(interaction)
            if interaction.state is InteractionState.QUEUED:
                self._queues.setdefault(interaction.org_id, []).append(interaction.interaction_id)
            for user_id in interaction.agent_ids:
                self._avail(interaction.org_id, user_id).handling += 1

    def _avail(self, org_id: str, user_id: str) -> Availability:
        a = self._availability.get((org_id, user_id))
        if a is None:
            a = self._availability[(org_id, user_id)] = Availability(user_id)
        return a

    def availability(self, org_id: str, user_id: str) -> Availability:
        """The user's availability (a fresh notReady one for a user never seen, not kept)."""
        return self._availability.get((org_id, user_id)) or Availability(user_id)

    # -- availability --------------------------------------------------------------------------
    async def ready(self, org_id: str, user_id: str, max_concurrent: int) -> None:
        self._avail(org_id, user_id).become_ready(max_concurrent, self.clock.now())
        await self.dispatch(org_id)

    async def not_ready(self, org_id: str, user_id: str, reason_id: str) -> None:
        self._avail(org_id, user_id).become_not_ready(reason_id, self.clock.now())

    async def user_went_away(self, org_id: str, user_id: str) -> None:
        """The user's last streaming session ended: no new offers, and any pending offer moves on."""
        self._avail(org_id, user_id).become_not_ready("noSession", self.clock.now())
        for interaction in self.book.open_in(org_id):
            if interaction.state is InteractionState.OFFERED and interaction.offered_to == user_id:
                await self._withdraw(interaction, declined=False)
        await self.dispatch(org_id)

    async def check_presence(self) -> None:
        """Users who count as reachable but have no streaming session left (it was dropped for
        falling behind, or expired in a shared engine) go away like any other user."""
        for (org_id, user_id), a in list(self._availability.items()):
            reachable = a.ready or self._has_offer(org_id, user_id)
            if reachable and not await self.engine.sessions_of(org_id, events.user_owner(user_id)):
                await self.user_went_away(org_id, user_id)

    def _has_offer(self, org_id: str, user_id: str) -> bool:
        return any(i.state is InteractionState.OFFERED and i.offered_to == user_id for i in self.book.open_in(org_id))

    # -- queue and offers ------------------------------------------------------------------------
    async def enqueue(self, interaction: Interaction) -> None:
        self._queues.setdefault(interaction.org_id, []).append(interaction.interaction_id)
        await self.dispatch(interaction.org_id)

    async def dispatch(self, org_id: str) -> None:
        queue = self._queues.get(org_id)
        if not queue:
            return
        candidates = [a for (org, _), a in self._availability.items() if org == org_id]
        for interaction_id in list(queue):
            interaction = await self.book.get(org_id, interaction_id)
            if interaction.state is not InteractionState.QUEUED:
                queue.remove(interaction_id)
                continue
            chosen = choose_user(candidates, exclude=interaction.declined_by)
            if chosen is None:
                continue
            queue.remove(interaction_id)
            await self._offer(interaction, chosen)

    async def _offer(self, interaction: Interaction, to: Availability) -> None:
        to.handling += 1
        interaction.offer(to.user_id, new_id("ehub"), self.clock.now())
        key = (interaction.org_id, interaction.interaction_id)
        self._offer_deadlines[key] = self.clock.monotonic() + self.offer_timeout
        await self.book.save(interaction)
        lifecycle.offered(interaction, to.user_id)
        await self.engine.publish(
            interaction.org_id,
            [events.user_owner(to.user_id)],
            events.OFFERED,
            events.offered_payload(interaction, self.offer_timeout),
        )

    async def _withdraw(self, interaction: Interaction, declined: bool) -> None:
        self._offer_deadlines.pop((interaction.org_id, interaction.interaction_id), None)
        user_id = interaction.withdraw_offer(declined)
        if user_id is not None:
            self._avail(interaction.org_id, user_id).handling -= 1
        await self.book.save(interaction)
        self._queues.setdefault(interaction.org_id, []).insert(0, interaction.interaction_id)

    async def tick(self) -> None:
        """Time out offers nobody accepted."""
        now = self.clock.monotonic()
        due = [key for key, deadline in self._offer_deadlines.items() if deadline <= now]
        orgs: set[str] = set()
        for org_id, interaction_id in due:
            interaction = await self.book.get(org_id, interaction_id)
            user_id = interaction.offered_to
            if interaction.state is not InteractionState.OFFERED or user_id is None:
                self._offer_deadlines.pop((org_id, interaction_id), None)
                continue
            await self._withdraw(interaction, declined=False)
            lifecycle.timed_out(interaction, user_id)
            self._avail(org_id, user_id).become_not_ready("offerTimeout", self.clock.now())
            await self.engine.publish(
                org_id,
                [events.user_owner(user_id)],
                events.ACCEPT_TIMEOUT,
                {"interactionId": interaction_id},
            )
            orgs.add(org_id)
        for org_id in orgs:
            await self.dispatch(org_id)

    # -- the agent's answers ---------------------------------------------------------------------
    async def accept(self, user: User, interaction_id: str, ehub_session_id: str) -> None:
        interaction = await self.book.get(user.org_id, interaction_id)
        interaction.accept(user.user_id, ehub_session_id, self.clock.now())
        self._offer_deadlines.pop((user.org_id, interaction_id), None)
        await self.book.save(interaction)
        lifecycle.accepted(interaction, user.user_id)
        await self.engine.publish(
            user.org_id,
            events.audience(interaction, contact=True),
            events.ACTIVE,
            events.active_payload(interaction, user.user_id, user.display_name, EntityType.AGENT),
        )

    async def reject(self, user: User, interaction_id: str, ehub_session_id: str) -> None:
        interaction = await self.book.get(user.org_id, interaction_id)
        interaction.check_offer(user.user_id, ehub_session_id)
        await self._withdraw(interaction, declined=True)
        lifecycle.rejected(interaction, user.user_id)
        await self.dispatch(user.org_id)

    async def monitor(self, user: User, interaction_id: str) -> None:
        if not user.is_supervisor:
            raise RuleViolation.of("userId", "notSupervisor", "only a supervisor may monitor an interaction")
        interaction = await self.book.get(user.org_id, interaction_id)
        interaction.add_monitor(user.user_id)
        await self.book.save(interaction)
        await self.engine.publish(
            user.org_id,
            events.audience(interaction, contact=False),
            events.ACTIVE,
            events.active_payload(interaction, user.user_id, user.display_name, EntityType.MONITOR),
        )

    async def disconnect_user(self, user: User, interaction_id: str) -> None:
        """An agent ends the interaction; a monitoring supervisor only stops monitoring."""
        interaction = await self.book.get(user.org_id, interaction_id)
        interaction.ensure_open()
        if user.user_id in interaction.monitor_ids and user.user_id not in interaction.agent_ids:
            await self.engine.publish(
                user.org_id,
                events.audience(interaction, contact=False),
                events.DISCONNECTED,
                events.disconnected_payload(interaction_id, EntityType.MONITOR, "monitorLeft"),
            )
            interaction.remove_monitor(user.user_id)
            await self.book.save(interaction)
            return
        if user.user_id not in interaction.agent_ids and user.is_supervisor:
            await self.end(interaction, EntityType.MONITOR, "supervisorEnded")
            return
        if user.user_id not in interaction.agent_ids:
            raise RuleViolation.of(
                "userId", "notParticipant", f"user {user.user_id} is not a participant of {interaction_id}"
            )
        await self.end(interaction, EntityType.AGENT, "agentDisconnected")

    async def transfer(self, actor: User, interaction_id: str, to_user_id: str | None) -> None:
        """Hand an active interaction to ``to_user_id`` (ready, with a free slot) or back to the
        front of the queue; the agents who had it are disconnected with reason ``transferred``."""
        interaction = await self.book.get(actor.org_id, interaction_id)
        interaction.ensure_open()
        is_agent = actor.user_id in interaction.agent_ids
        if not is_agent and not actor.is_supervisor:
            raise RuleViolation.of(
                "userId", "notParticipant", f"user {actor.user_id} is not a participant of {interaction_id}"
            )
        target = None if to_user_id is None else self._avail(actor.org_id, to_user_id)
        if target is not None and (not target.has_free_slot or target.user_id in interaction.agent_ids):
            raise RuleViolation.of("userId", "userUnavailable", f"user {to_user_id} is not ready with a free slot")
        leaving = interaction.transfer_away()
        self._offer_deadlines.pop((interaction.org_id, interaction_id), None)
        now = self.clock.now()
        for user_id in leaving:
            self._avail(interaction.org_id, user_id).finished_one(now)
        await self.book.save(interaction)
        by = EntityType.AGENT if is_agent else EntityType.MONITOR
        await self.engine.publish(
            interaction.org_id,
            [events.user_owner(u) for u in leaving],
            events.DISCONNECTED,
            events.disconnected_payload(interaction_id, by, "transferred"),
        )
        lifecycle.transferred(interaction, leaving, to_user_id)
        if target is not None:
            await self._offer(interaction, target)
        else:
            self._queues.setdefault(interaction.org_id, []).insert(0, interaction_id)
        await self.dispatch(interaction.org_id)

    async def end(self, interaction: Interaction, by: EntityType, reason: str) -> None:
        """End an interaction: stop typing, tell everyone, free the agents' slots, route the queue."""
        offered_to = interaction.offered_to
        interaction.end(by, reason, self.clock.now())
        key = (interaction.org_id, interaction.interaction_id)
        self._offer_deadlines.pop(key, None)
        await self.book.save(interaction)
        lifecycle.ended(interaction, by.value, reason)
        await self.typing.interaction_ended(interaction)
        owners = events.audience(interaction, contact=True)
        if offered_to is not None:
            owners.append(events.user_owner(offered_to))
            self._avail(interaction.org_id, offered_to).handling -= 1
        await self.engine.publish(
            interaction.org_id,
            owners,
            events.DISCONNECTED,
            events.disconnected_payload(interaction.interaction_id, by, reason),
        )
        now = self.clock.now()
        for user_id in interaction.agent_ids:
            self._avail(interaction.org_id, user_id).finished_one(now)
        queue = self._queues.get(interaction.org_id)
        if queue and interaction.interaction_id in queue:
            queue.remove(interaction.interaction_id)
        await self.dispatch(interaction.org_id)
