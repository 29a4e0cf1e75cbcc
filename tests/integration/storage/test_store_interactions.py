"""Interactions, their messages and transcripts, and idempotency records."""

from __future__ import annotations

import pytest

from parley.domain.errors import AlreadyExists
from parley.domain.interactions import EntityType, InteractionState, Message
from parley.service.ports import InteractionPage, InteractionQuery, OpenInteractions, Store
from tests.integration.storage import storage_samples as s


async def test_an_interaction_reads_back_whole_and_only_in_its_organization(store: Store) -> None:
    interaction = s.interaction()
    await store.add_interaction(interaction)

    assert await store.get_interaction(s.ORG, "int_1") == interaction
    assert await store.get_interaction("other-org", "int_1") is None
    assert await store.get_interaction(s.ORG, "int_2") is None


async def test_saving_writes_every_changed_field(store: Store) -> None:
    interaction = s.interaction()
    await store.add_interaction(interaction)
    interaction.offer("usr_1", "ehub_1", at=10.0)
    interaction.withdraw_offer(declined=True)
    interaction.offer("usr_2", "ehub_2", at=11.0)
    interaction.accept("usr_2", "ehub_2")
    interaction.add_monitor("usr_3")
    interaction.contact_data["note"] = "changed"
    interaction.next_seq()
    await store.save_interaction(interaction)
    interaction.end(EntityType.AGENT, "resolved", at=12.0)
    ended_later = await store.get_interaction(s.ORG, "int_1")

    assert ended_later is not None
    assert ended_later.state is InteractionState.ACTIVE
    assert (ended_later.agent_ids, ended_later.monitor_ids, ended_later.declined_by) == (
        ["usr_2"],
        ["usr_3"],
        ["usr_1"],
    )
    assert (ended_later.contact_data["note"], ended_later.last_seq) == ("changed", 1)

    await store.save_interaction(interaction)
    assert await store.get_interaction(s.ORG, "int_1") == interaction


async def test_a_read_interaction_is_a_copy(store: Store) -> None:
    await store.add_interaction(s.interaction())
    read = await store.get_interaction(s.ORG, "int_1")
    assert read is not None

    read.agent_ids.append("usr_9")
    read.contact_data["plan"] = "none"

    assert await store.get_interaction(s.ORG, "int_1") == s.interaction()


async def test_open_interactions_leave_out_ended_ones(store: Store) -> None:
    for n, state in enumerate(InteractionState):
        interaction = s.interaction(f"int_{state.value}", created_at=float(n))
        await store.add_interaction(interaction)
        interaction.state = state
        await store.save_interaction(interaction)

    found = await store.open_interactions()

    assert [i.interaction_id for i in found] == ["int_queued", "int_offered", "int_active"]
    assert found[2].state is InteractionState.ACTIVE


async def test_open_interactions_are_counted_by_state_with_the_oldest_queued_time(store: Store) -> None:
    assert await store.count_open_interactions() == OpenInteractions({}, None)
    for n, state in enumerate([*InteractionState, InteractionState.QUEUED]):
        interaction = s.interaction(f"int_{n}", created_at=10.0 - n)
        await store.add_interaction(interaction)
        interaction.state = state
        await store.save_interaction(interaction)

    counted = await store.count_open_interactions()

    assert counted == OpenInteractions({"queued": 2, "offered": 1, "active": 1}, 6.0)


async def test_a_transcript_is_in_sequence_order(store: Store) -> None:
    for seq in (3, 1, 2):
        await store.add_message(s.message(seq))
    await store.add_message(s.message(1, interaction_id="int_2"))

    transcript = await store.transcript(s.ORG, "int_1")

    assert transcript == [s.message(1), s.message(2), s.message(3)]
    assert await store.transcript("other-org", "int_1") == []
    assert await store.transcript(s.ORG, "int_3") == []


@pytest.mark.parametrize("duplicate", [s.message(1, message_id="msg_other"), s.message(2, message_id="msg_int_1_1")])
async def test_a_message_id_and_its_sequence_number_are_unique(store: Store, duplicate: Message) -> None:
    await store.add_message(s.message(1))

    with pytest.raises(AlreadyExists) as raised:
        await store.add_message(duplicate)

    assert raised.value.reason == "duplicateMessage"
    assert await store.transcript(s.ORG, "int_1") == [s.message(1)]


async def test_a_message_and_its_idempotency_record_are_stored_together(store: Store) -> None:
    await store.add_message(s.message(1), s.idempotency("k1"))

    assert await store.get_idempotency("key_1", "k1") == s.idempotency("k1")
    assert await store.transcript(s.ORG, "int_1") == [s.message(1)]


async def test_a_reused_idempotency_key_stores_no_message(store: Store) -> None:
    await store.add_message(s.message(1), s.idempotency("k1"))

    with pytest.raises(AlreadyExists) as raised:
        await store.add_message(s.message(2), s.idempotency("k1"))

    assert (raised.value.problems[0].scope, raised.value.reason) == ("idempotency-key", "idempotencyKeyExists")
    assert await store.transcript(s.ORG, "int_1") == [s.message(1)]


async def test_a_duplicate_message_stores_no_idempotency_record(store: Store) -> None:
    await store.add_message(s.message(1))

    with pytest.raises(AlreadyExists):
        await store.add_message(s.message(1), s.idempotency("k1"))

    assert await store.get_idempotency("key_1", "k1") is None


async def test_an_idempotency_record_reads_back_and_is_scoped_to_its_key(store: Store) -> None:
    await store.put_idempotency(s.idempotency("k1"))
    await store.put_idempotency(s.idempotency("k1", api_key_id="key_2"))

    with pytest.raises(AlreadyExists) as raised:
        await store.put_idempotency(s.idempotency("k1"))

    assert raised.value.reason == "idempotencyKeyExists"
    assert await store.get_idempotency("key_1", "k1") == s.idempotency("k1")
    assert await store.get_idempotency("key_1", "k2") is None


async def test_purging_removes_only_records_older_than_the_cutoff(store: Store) -> None:
    for n in range(5):
        await store.put_idempotency(s.idempotency(f"k{n}", created_at=float(n)))

    assert await store.purge_idempotency(older_than=3.0) == 3
    assert await store.purge_idempotency(older_than=3.0) == 0
    assert await store.get_idempotency("key_1", "k2") is None
    assert await store.get_idempotency("key_1", "k3") == s.idempotency("k3", created_at=3.0)


async def test_interactions_are_found_by_state_channel_and_anyone_who_was_in_them(store: Store) -> None:
    transferred, waiting, other_org = (
        s.interaction("int_1"),
        s.interaction("int_2", created_at=7.0),
        s.interaction("int_3", org_id="other", created_at=8.0),
    )
    for i in (transferred, waiting, other_org):
        await store.add_interaction(i)
    transferred.offer("usr_ada", "ehub_1", at=9.0)
    transferred.accept("usr_ada", "ehub_1", at=10.0)
    transferred.transfer_away()
    transferred.offer("usr_bob", "ehub_2", at=11.0)
    await store.save_interaction(transferred)

    def ids(page: InteractionPage) -> list[str]:
        return [i.interaction_id for i in page.interactions]

    assert ids(await store.find_interactions(InteractionQuery(s.ORG))) == ["int_1", "int_2"]
    assert ids(await store.find_interactions(InteractionQuery(s.ORG, state="queued"))) == ["int_2"]
    assert ids(await store.find_interactions(InteractionQuery(s.ORG, user_id="usr_ada"))) == ["int_1"]
    assert ids(await store.find_interactions(InteractionQuery(s.ORG, user_id="usr_bob"))) == []  # only offered
    assert ids(await store.find_interactions(InteractionQuery(s.ORG, channel_type="sms"))) == []
    first = await store.find_interactions(InteractionQuery(s.ORG, limit=1))
    assert (ids(first), first.total) == (["int_1"], 2)
    rest = await store.find_interactions(InteractionQuery(s.ORG, limit=1, continuation_token=first.continuation_token))
    assert (ids(rest), rest.continuation_token) == (["int_2"], None)
    found = (await store.find_interactions(InteractionQuery(s.ORG, state="offered"))).interactions[0]
    assert (found.accepted_at, found.former_user_ids) == (10.0, ["usr_ada"])
