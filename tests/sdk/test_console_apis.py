"""The SDK's read APIs and transfer (contract 12) against a real server, blocking and asyncio."""

from __future__ import annotations

import pytest

from parley_client import ActiveEvent, DisconnectedEvent, OfferedEvent, Unprocessable
from tests.sdk.conftest import Org
from tests.sdk.waiting import next_of, next_of_sync


def test_an_agent_transfers_a_chat_to_a_ready_colleague_and_reads_where_it_went(org: Org) -> None:
    ada, bob = org.user("Ada"), org.user("Bob")
    with org.client(entity_name="Ada") as first, org.client(entity_name="Bob") as second, org.web_chat() as carla:
        first.start_session(ada.user_id)
        second.start_session(bob.user_id)
        first.ready()
        interaction = carla.start_chat("Carla")
        first_events, second_events = first.events(poll_timeout=2), second.events(poll_timeout=2)
        offer = next_of_sync(first_events, OfferedEvent)
        first.accept(interaction, offer.payload.ehub_session_id)
        next_of_sync(first_events, ActiveEvent)

        with pytest.raises(Unprocessable) as busy:
            first.transfer(interaction, to_user_id=bob.user_id)
        assert busy.value.reason == "userUnavailable"
        second.ready(max_concurrent=2)
        ready = first.users(state="ready")
        assert {(u.user_id, u.load, u.max_concurrent) for u in ready} == {(ada.user_id, 1, 1), (bob.user_id, 0, 2)}
        first.transfer(interaction, to_user_id=bob.user_id)

        gone = next_of_sync(first_events, DisconnectedEvent)
        assert gone.payload.reason == "transferred"
        again = next_of_sync(second_events, OfferedEvent)
        second.accept(interaction, again.payload.ehub_session_id)
        record = second.interaction(interaction)
        assert (record.state, record.user_ids, record.contact_name) == ("active", [ada.user_id, bob.user_id], "Carla")
        assert record.accepted_time is not None and record.ended_time is None
        mine = first.interactions()
        assert (mine.total_items, mine.interactions[0].interaction_id) == (1, interaction)


async def test_a_supervisor_pages_through_the_queue_and_sends_a_chat_back_to_it(org: Org) -> None:
    ada, sue = org.user("Ada"), org.user("Sue", roles=["agent", "supervisor"])
    async with org.async_client(entity_name="Ada") as agent, org.async_client() as supervisor:
        await agent.start_session(ada.user_id)
        await supervisor.start_session(sue.user_id)
        customers = [org.async_customer() for _ in range(3)]
        try:
            ids = [await c.start_chat(f"Waiting {n}") for n, c in enumerate(customers)]
            first = await supervisor.interactions(state="queued", max_results=2)
            assert first.total_items == 3 and first.continuation_token is not None
            rest = await supervisor.interactions(state="queued", continuation_token=first.continuation_token)
            assert [i.interaction_id for i in [*first.interactions, *rest.interactions]] == ids

            await agent.ready()
            events = agent.events(poll_timeout=2)
            offer = await next_of(events, OfferedEvent)
            await agent.accept(offer.payload.interaction_id, offer.payload.ehub_session_id)
            await supervisor.transfer(offer.payload.interaction_id)
            assert (await next_of(events, DisconnectedEvent)).payload.reason == "transferred"
            # Ada's slot is free again: she is offered the next chat, never the one taken from her.
            assert (await next_of(events, OfferedEvent)).payload.interaction_id == ids[1]
            queued = await supervisor.interactions(state="queued")
            assert [i.interaction_id for i in queued.interactions] == [ids[0], ids[2]]
            states = {u.user_id: u for u in await supervisor.users()}
            assert states[ada.user_id].state == "ready" and states[sue.user_id].state == "notReady"
        finally:
            for c in customers:
                await c.aclose()
