"""Transfer and the read APIs' use cases on in-memory adapters (contract 12)."""

from __future__ import annotations

import pytest

from parley.domain.errors import NotFound, RuleViolation
from parley.domain.interactions import InteractionState
from parley.service.ports import InteractionQuery
from tests.unit.world import World

OFFERED = "engagementCenter.Offered"
ACTIVE = "engagementCenter.Active"
DISCONNECTED = "engagementCenter.Disconnected"


async def test_a_transfer_to_a_ready_user_offers_it_to_them_and_disconnects_the_first_agent(world: World) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    interaction_id, ada_desk, contact = await world.handled_chat(ada)
    bob_desk = await world.session(bob)
    await world.ready(bob)

    await world.parley.engagement.transfer(ada, interaction_id, bob.user_id)

    [gone] = await world.events(ada_desk)
    assert (gone.event_type, gone.payload["reason"]) == (DISCONNECTED, "transferred")
    assert await world.accept(bob, bob_desk) == interaction_id
    [active] = await world.events(contact.session)
    assert (active.event_type, active.payload["userId"]) == (ACTIVE, bob.user_id)
    interaction = await world.interaction(interaction_id)
    assert (interaction.agent_ids, interaction.everyone) == ([bob.user_id], [ada.user_id, bob.user_id])
    assert world.parley.engagement.availability(world.org_id, ada.user_id).handling == 0


async def test_a_transfer_to_the_queue_goes_ahead_of_newer_chats_and_never_back_to_the_same_agent(
    world: World,
) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    interaction_id, ada_desk, _ = await world.handled_chat(ada)
    newer = await world.chat("Newer")
    await world.parley.engagement.transfer(ada, interaction_id, None)
    # Ada's slot is free again: she is offered the newer chat, not the one she passed on.
    assert [e.event_type for e in await world.events(ada_desk)] == [DISCONNECTED, OFFERED]
    assert (await world.interaction(newer.interaction.interaction_id)).offered_to == ada.user_id
    assert (await world.interaction(interaction_id)).state is InteractionState.QUEUED

    await world.parley.engagement.not_ready(world.org_id, ada.user_id, "break")
    newest = await world.chat("Newest")
    bob_desk = await world.session(bob)
    await world.ready(bob)
    assert (await world.offer_of(bob_desk))["interactionId"] == interaction_id
    assert (await world.interaction(newest.interaction.interaction_id)).state is InteractionState.QUEUED


async def test_a_transfer_to_someone_not_ready_is_refused_and_changes_nothing(world: World) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    interaction_id, _, _ = await world.handled_chat(ada)
    with pytest.raises(RuleViolation) as refused:
        await world.parley.engagement.transfer(ada, interaction_id, bob.user_id)
    assert refused.value.problems[0].reason == "userUnavailable"
    assert (await world.interaction(interaction_id)).agent_ids == [ada.user_id]


async def test_only_its_agent_or_a_supervisor_may_transfer_an_interaction(world: World) -> None:
    ada, eve, sue = await world.user("Ada"), await world.user("Eve"), await world.user("Sue", "supervisor")
    interaction_id, _, _ = await world.handled_chat(ada)
    with pytest.raises(RuleViolation) as refused:
        await world.parley.engagement.transfer(eve, interaction_id, None)
    assert refused.value.problems[0].reason == "notParticipant"
    await world.parley.engagement.transfer(sue, interaction_id, None)
    assert (await world.interaction(interaction_id)).state is InteractionState.QUEUED


async def test_an_agent_lists_only_its_own_interactions_and_a_supervisor_all(world: World) -> None:
    ada, bob, sue = await world.user("Ada"), await world.user("Bob"), await world.user("Sue", "supervisor")
    ada_chat, _, _ = await world.handled_chat(ada)
    world.clock.advance(1)
    bob_chat, _, _ = await world.handled_chat(bob)
    world.clock.advance(1)
    queued = await world.chat("Waiting")
    overview = world.parley.overview

    mine = await overview.interactions(ada, InteractionQuery(world.org_id))
    assert [i.interaction_id for i in mine.interactions] == [ada_chat]
    everything = await overview.interactions(sue, InteractionQuery(world.org_id, limit=2))
    assert everything.total == 3 and len(everything.interactions) == 2 and everything.continuation_token
    rest = await overview.interactions(
        sue, InteractionQuery(world.org_id, limit=2, continuation_token=everything.continuation_token)
    )
    assert [i.interaction_id for i in [*everything.interactions, *rest.interactions]] == [
        ada_chat,
        bob_chat,
        queued.interaction.interaction_id,
    ]
    waiting = await overview.interactions(sue, InteractionQuery(world.org_id, state="queued"))
    assert [i.interaction_id for i in waiting.interactions] == [queued.interaction.interaction_id]
    with pytest.raises(RuleViolation):
        await overview.interactions(ada, InteractionQuery(world.org_id, user_id=bob.user_id))
    with pytest.raises(NotFound):
        await overview.interaction(ada, bob_chat)
    assert (await overview.interaction(sue, bob_chat)).agent_ids == [bob.user_id]


async def test_the_users_states_say_since_when_and_how_loaded(world: World) -> None:
    ada, bob, sue = await world.user("Ada"), await world.user("Bob"), await world.user("Sue", "supervisor")
    await world.handled_chat(ada)
    world.clock.advance(7)
    await world.session(bob)
    await world.parley.engagement.not_ready(world.org_id, bob.user_id, "lunch")

    states = {s.user.user_id: s for s in await world.parley.overview.users(sue, None)}
    assert (states[ada.user_id].ready, states[ada.user_id].load) == (True, 1)
    assert (states[bob.user_id].ready, states[bob.user_id].reason_id) == (False, "lunch")
    assert states[bob.user_id].since == states[ada.user_id].since + 7
    assert [s.user.user_id for s in await world.parley.overview.users(sue, True)] == [ada.user_id]
    assert len(await world.parley.overview.users(ada, None)) == 3  # an agent picks whom to transfer to
