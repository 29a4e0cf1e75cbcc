"""Routing through the engagement service on in-memory adapters (contract section 6)."""

from __future__ import annotations

import pytest

from parley.api.errors import status_of
from parley.bootstrap import PRESENCE_EVERY_TICKS
from parley.domain.errors import RuleViolation
from parley.domain.interactions import EntityType, InteractionState, MessageKind
from tests.clock import FakeClock
from tests.unit.world import OFFER_TIMEOUT, World, opened_world

OFFERED = "engagementCenter.Offered"
TIMEOUT = "engagementCenter.AcceptCallTimeout"
ACTIVE = "engagementCenter.Active"
DISCONNECTED = "engagementCenter.Disconnected"


async def test_the_longest_idle_of_three_ready_agents_gets_the_offer(world: World) -> None:
    agents = [await world.user(name) for name in ("Ada", "Bob", "Cy")]
    sessions = [await world.session(a) for a in agents]
    for agent in (agents[1], agents[0], agents[2]):
        await world.ready(agent)
        world.clock.advance(5)
    contact = await world.chat()

    offer = await world.offer_of(sessions[1])
    assert set(offer) == {
        "interactionId",
        "ehubSessionId",
        "channelType",
        "contactName",
        "contactAddress",
        "offerTimeoutSeconds",
    }
    assert (offer["interactionId"], offer["channelType"], offer["contactName"], offer["offerTimeoutSeconds"]) == (
        contact.interaction.interaction_id,
        "chat",
        "Carol",
        30,
    )
    assert await world.kinds(sessions[0]) == []
    assert await world.kinds(sessions[2]) == []
    interaction = await world.interaction(contact.interaction.interaction_id)
    assert (interaction.state, interaction.offered_to) == (InteractionState.OFFERED, agents[1].user_id)


async def test_idle_time_counts_from_the_later_of_becoming_ready_and_ending_the_last_interaction(
    world: World,
) -> None:
    ada, bob, cy = [await world.user(name) for name in ("Ada", "Bob", "Cy")]
    s_ada, s_bob, s_cy = [await world.session(u) for u in (ada, bob, cy)]
    for agent in (ada, bob, cy):  # ready at 0, 10, 20
        await world.ready(agent)
        world.clock.advance(10)
    await world.chat("First")
    first = await world.accept(ada, s_ada)
    await world.chat("Second")
    second = await world.accept(bob, s_bob)

    world.clock.advance(10)  # ada ends at 40: she is now idle for less time than cy (ready at 20)
    await world.parley.engagement.disconnect_user(ada, first)
    world.clock.advance(10)  # bob ends at 50
    await world.parley.engagement.disconnect_user(bob, second)
    for s in (s_ada, s_bob, s_cy):
        await world.events(s)

    await world.chat("Third")
    assert OFFERED in await world.kinds(s_cy)
    await world.chat("Fourth")
    assert OFFERED in await world.kinds(s_ada)
    assert OFFERED not in await world.kinds(s_bob)


async def test_an_offer_not_accepted_in_time_goes_to_the_next_longest_idle_agent(world: World) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    s_ada, s_bob = await world.session(ada), await world.session(bob)
    await world.ready(ada)
    world.clock.advance(1)
    await world.ready(bob)
    contact = await world.chat()
    interaction_id = contact.interaction.interaction_id
    await world.offer_of(s_ada)

    await world.pass_time(OFFER_TIMEOUT - 1)
    assert await world.kinds(s_ada) == []
    assert await world.kinds(s_bob) == []

    await world.pass_time(1)
    [timeout] = await world.events(s_ada)
    assert (timeout.event_type, timeout.payload) == (TIMEOUT, {"interactionId": interaction_id})
    ada_now = world.parley.engagement.availability(world.org_id, ada.user_id)
    assert (ada_now.ready, ada_now.reason_id, ada_now.handling) == (False, "offerTimeout", 0)
    assert (await world.offer_of(s_bob))["interactionId"] == interaction_id


async def test_a_timed_out_offer_can_no_longer_be_accepted(world: World) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    s_ada, s_bob = await world.session(ada), await world.session(bob)
    await world.ready(ada)
    await world.chat()
    offer = await world.offer_of(s_ada)
    await world.pass_time(OFFER_TIMEOUT)

    with pytest.raises(RuleViolation) as caught:
        await world.parley.engagement.accept(ada, offer["interactionId"], offer["ehubSessionId"])
    assert caught.value.reason == "notOffered"
    assert (await world.interaction(offer["interactionId"])).state is InteractionState.QUEUED
    await world.ready(bob)
    assert (await world.offer_of(s_bob))["interactionId"] == offer["interactionId"]


async def test_a_rejected_offer_goes_to_the_next_agent_and_never_back_to_the_rejecter(world: World) -> None:
    ada, bob, cy = [await world.user(name) for name in ("Ada", "Bob", "Cy")]
    s_ada, s_bob, s_cy = [await world.session(u) for u in (ada, bob, cy)]
    await world.ready(ada)
    world.clock.advance(1)
    await world.ready(bob)
    world.clock.advance(1)
    await world.ready(cy)
    await world.chat()
    offer = await world.offer_of(s_ada)

    await world.parley.engagement.reject(ada, offer["interactionId"], offer["ehubSessionId"])
    to_bob = await world.offer_of(s_bob)
    assert to_bob["interactionId"] == offer["interactionId"]
    assert to_bob["ehubSessionId"] != offer["ehubSessionId"]
    await world.parley.engagement.reject(bob, to_bob["interactionId"], to_bob["ehubSessionId"])

    assert (await world.offer_of(s_cy))["interactionId"] == offer["interactionId"]
    assert await world.kinds(s_ada) == []
    rejecter = world.parley.engagement.availability(world.org_id, ada.user_id)
    assert (rejecter.ready, rejecter.handling) == (True, 0)


async def test_a_rejecter_is_excluded_only_from_the_interaction_it_rejected(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    first = await world.chat("First")
    offer = await world.offer_of(s_ada)
    await world.parley.engagement.reject(ada, offer["interactionId"], offer["ehubSessionId"])

    second = await world.chat("Second")
    assert (await world.offer_of(s_ada))["interactionId"] == second.interaction.interaction_id
    assert (await world.interaction(first.interaction.interaction_id)).state is InteractionState.QUEUED


async def test_deleting_the_last_streaming_session_makes_the_user_not_ready_and_moves_the_offer(
    world: World,
) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    s_ada, s_ada_desk2, s_bob = await world.session(ada), await world.session(ada), await world.session(bob)
    await world.ready(ada)
    world.clock.advance(1)
    await world.ready(bob)
    contact = await world.chat()
    await world.offer_of(s_ada)

    await world.parley.streaming.close(s_ada)
    assert world.parley.engagement.availability(world.org_id, ada.user_id).ready
    assert await world.kinds(s_bob) == []

    await world.parley.streaming.close(s_ada_desk2)
    ada_now = world.parley.engagement.availability(world.org_id, ada.user_id)
    assert (ada_now.ready, ada_now.handling) == (False, 0)
    assert (await world.offer_of(s_bob))["interactionId"] == contact.interaction.interaction_id


async def test_a_session_swept_after_inactivity_makes_the_user_not_ready_and_moves_the_offer(world: World) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    await world.session(ada, inactivity_delay=10)
    s_bob = await world.session(bob)
    await world.ready(ada)
    world.clock.advance(1)
    await world.ready(bob)
    contact = await world.chat()

    await world.pass_time(9)  # ten seconds without a poll: still alive
    assert world.parley.engagement.availability(world.org_id, ada.user_id).ready
    await world.pass_time(1)

    assert not world.parley.engagement.availability(world.org_id, ada.user_id).ready
    assert (await world.offer_of(s_bob))["interactionId"] == contact.interaction.interaction_id
    assert await world.parley.engine.sessions_of(world.org_id, f"user:{ada.user_id}") == []


async def test_accepting_with_a_wrong_ehub_session_is_422_and_leaves_the_offer_open(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    contact = await world.chat()
    offer = await world.offer_of(s_ada)

    with pytest.raises(RuleViolation) as caught:
        await world.parley.engagement.accept(ada, offer["interactionId"], "ehub_wrong")
    assert status_of(caught.value) == 422
    assert caught.value.problems[0].scope == "ehubSessionId"
    assert (await world.interaction(offer["interactionId"])).state is InteractionState.OFFERED

    await world.parley.engagement.accept(ada, offer["interactionId"], offer["ehubSessionId"])
    [active] = await world.events(s_ada)
    assert (active.event_type, active.payload["userId"], active.payload["entityName"]) == (ACTIVE, ada.user_id, "Ada")
    assert await world.kinds(contact.session) == [ACTIVE]


async def test_rejecting_with_a_wrong_ehub_session_is_422(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    await world.chat()
    offer = await world.offer_of(s_ada)
    with pytest.raises(RuleViolation) as caught:
        await world.parley.engagement.reject(ada, offer["interactionId"], "ehub_wrong")
    assert status_of(caught.value) == 422


async def test_a_user_who_was_not_offered_cannot_accept(world: World) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    s_ada = await world.session(ada)
    await world.ready(ada)
    await world.chat()
    offer = await world.offer_of(s_ada)
    with pytest.raises(RuleViolation) as caught:
        await world.parley.engagement.accept(bob, offer["interactionId"], offer["ehubSessionId"])
    assert (status_of(caught.value), caught.value.reason) == (422, "notOffered")


async def test_a_not_ready_agent_gets_no_offer_until_ready_again(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    await world.parley.engagement.not_ready(world.org_id, ada.user_id, "lunch")
    contact = await world.chat()
    assert await world.kinds(s_ada) == []
    assert world.parley.engagement.availability(world.org_id, ada.user_id).reason_id == "lunch"

    await world.ready(ada)
    assert (await world.offer_of(s_ada))["interactionId"] == contact.interaction.interaction_id


async def test_an_agent_takes_as_many_chats_as_its_free_slots(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada, max_concurrent=2)
    await world.chat("First")
    await world.accept(ada, s_ada)
    await world.chat("Second")
    await world.accept(ada, s_ada)
    third = await world.chat("Third")
    assert await world.kinds(s_ada) == []
    assert (await world.interaction(third.interaction.interaction_id)).state is InteractionState.QUEUED


async def test_ending_a_chat_frees_the_slot_for_the_next_queued_one(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    first = await world.chat("First")
    first_id = await world.accept(ada, s_ada)
    second = await world.chat("Second")
    await world.events(first.session)

    await world.parley.engagement.disconnect_user(ada, first_id)
    kinds = await world.kinds(s_ada)
    assert kinds == [DISCONNECTED, OFFERED]
    [bye] = await world.events(first.session)
    assert bye.payload == {"interactionId": first_id, "disconnectedBy": "Agent", "reason": "agentDisconnected"}
    assert (await world.interaction(second.interaction.interaction_id)).offered_to == ada.user_id


async def test_a_contact_leaving_during_the_offer_frees_the_offered_agent(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    first = await world.chat("First")
    await world.offer_of(s_ada)
    interaction = await world.interaction(first.interaction.interaction_id)
    await world.parley.engagement.end(interaction, EntityType.CONTACT, "contactDisconnected")

    [bye] = await world.events(s_ada)
    assert (bye.event_type, bye.payload["disconnectedBy"]) == (DISCONNECTED, "Contact")
    assert world.parley.engagement.availability(world.org_id, ada.user_id).handling == 0
    await world.pass_time(OFFER_TIMEOUT)
    assert await world.kinds(s_ada) == []


async def test_a_supervisor_monitors_without_the_contact_being_told(world: World) -> None:
    ada, sue = await world.user("Ada"), await world.user("Sue", "supervisor")
    s_sue = await world.session(sue)
    interaction_id, s_ada, contact = await world.handled_chat(ada)

    await world.parley.engagement.monitor(sue, interaction_id)
    [joined] = await world.events(s_ada)
    assert (joined.event_type, joined.payload["userId"], joined.payload["entityType"]) == (
        ACTIVE,
        sue.user_id,
        "Monitor",
    )
    assert await world.kinds(s_sue) == [ACTIVE]
    assert await world.kinds(contact.session) == []


@pytest.mark.parametrize(("action", "reason"), [("monitor", "notSupervisor"), ("disconnect_user", "notParticipant")])
async def test_an_agent_outside_the_chat_may_neither_monitor_nor_disconnect_it(
    world: World, action: str, reason: str
) -> None:
    ada, bob = await world.user("Ada"), await world.user("Bob")
    interaction_id, _, _ = await world.handled_chat(ada)
    with pytest.raises(RuleViolation) as caught:
        await getattr(world.parley.engagement, action)(bob, interaction_id)
    assert caught.value.reason == reason


async def test_an_offer_reaches_every_desk_of_the_chosen_agent(world: World) -> None:
    ada = await world.user("Ada")
    desks = [await world.session(ada), await world.session(ada)]
    await world.ready(ada)
    contact = await world.chat()
    for desk in desks:
        assert (await world.offer_of(desk))["interactionId"] == contact.interaction.interaction_id


async def test_a_chat_is_offered_only_within_its_organization(world: World) -> None:
    await world.parley.accounts.create_organization("globex")
    outsider = World(world.parley, world.clock, org_id="globex")
    gil = await outsider.user("Gil")
    s_gil = await outsider.session(gil)
    await outsider.ready(gil)
    contact = await world.chat()
    assert await outsider.kinds(s_gil) == []
    assert (await world.interaction(contact.interaction.interaction_id)).state is InteractionState.QUEUED


async def test_a_chat_whose_contact_leaves_while_queued_is_never_offered(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    gone = await world.chat("Gone")
    waiting = await world.chat("Waiting")
    await world.parley.engagement.end(
        await world.interaction(gone.interaction.interaction_id), EntityType.CONTACT, "contactDisconnected"
    )
    await world.ready(ada)
    assert (await world.offer_of(s_ada))["interactionId"] == waiting.interaction.interaction_id


async def test_when_the_offered_chat_ends_the_next_queued_one_is_offered(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    first = await world.chat("First")
    second = await world.chat("Second")
    await world.offer_of(s_ada)
    await world.parley.engagement.end(
        await world.interaction(first.interaction.interaction_id), EntityType.CONTACT, "contactDisconnected"
    )
    events = await world.events(s_ada)
    assert [e.event_type for e in events] == [DISCONNECTED, OFFERED]
    assert events[1].payload["interactionId"] == second.interaction.interaction_id


async def test_a_supervisor_who_stops_monitoring_leaves_the_chat_running(world: World) -> None:
    ada, sue = await world.user("Ada"), await world.user("Sue", "supervisor")
    s_sue = await world.session(sue)
    interaction_id, s_ada, contact = await world.handled_chat(ada)
    await world.parley.engagement.monitor(sue, interaction_id)
    for session in (s_ada, s_sue, contact.session):
        await world.events(session)

    await world.parley.engagement.disconnect_user(sue, interaction_id)
    for session in (s_ada, s_sue):
        [left] = await world.events(session)
        assert left.payload == {"interactionId": interaction_id, "disconnectedBy": "Monitor", "reason": "monitorLeft"}
    assert await world.kinds(contact.session) == []
    interaction = await world.interaction(interaction_id)
    assert (interaction.state, interaction.monitor_ids) == (InteractionState.ACTIVE, [])


async def test_a_user_whose_last_session_falls_too_far_behind_becomes_not_ready(clock: FakeClock) -> None:
    async with opened_world(clock, queue_limit=5) as world:
        ada, bob = await world.user("Ada"), await world.user("Bob")
        s_ada = await world.session(ada)
        await world.session(bob)
        await world.ready(ada, max_concurrent=2)
        world.clock.advance(1)
        await world.ready(bob)
        first = await world.chat("First")
        interaction_id = await world.accept(ada, s_ada)
        for n in range(6):
            await world.parley.messaging.contact_post(
                world.org_id, first.contact_id, interaction_id, MessageKind.TEXT, f"text {n}", None
            )
        assert await world.parley.engine.sessions_of(world.org_id, s_ada.owner) == []
        for _ in range(PRESENCE_EVERY_TICKS):
            await world.parley.tick()

        assert not world.parley.engagement.availability(world.org_id, ada.user_id).ready
        second = await world.chat("Second")
        assert (await world.interaction(second.interaction.interaction_id)).offered_to == bob.user_id


async def test_a_chat_whose_only_agent_missed_the_offer_is_offered_again_when_she_is_back(world: World) -> None:
    ada = await world.user("Ada")
    s_ada = await world.session(ada)
    await world.ready(ada)
    contact = await world.chat()
    await world.offer_of(s_ada)
    await world.pass_time(OFFER_TIMEOUT)
    assert await world.kinds(s_ada) == [TIMEOUT]

    await world.ready(ada)
    assert (await world.offer_of(s_ada))["interactionId"] == contact.interaction.interaction_id
