"""The life of an interaction and who may post in it (contract sections 3 and 6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parley.domain.errors import Gone, RuleViolation
from parley.domain.interactions import ChannelType, EntityType, Interaction, InteractionState, Message, MessageKind

AGENT = EntityType.AGENT
MONITOR = EntityType.MONITOR
SYSTEM = EntityType.SYSTEM


def queued() -> Interaction:
    return Interaction("int_1", "acme", ChannelType.CHAT, "ctc_1", "Carol", created_at=100.0)


def offered(to: str = "ada") -> Interaction:
    interaction = queued()
    interaction.offer(to, "ehub_1", at=101.0)
    return interaction


def active(agent: str = "ada", monitor: str | None = None) -> Interaction:
    interaction = offered(agent)
    interaction.accept(agent, "ehub_1")
    if monitor is not None:
        interaction.add_monitor(monitor)
    return interaction


def test_a_new_interaction_waits_in_the_queue() -> None:
    interaction = queued()
    assert interaction.state is InteractionState.QUEUED
    assert interaction.user_ids == []
    assert not interaction.is_ended


def test_an_offer_names_the_user_and_the_ehub_session() -> None:
    interaction = offered("ada")
    assert interaction.state is InteractionState.OFFERED
    assert (interaction.offered_to, interaction.ehub_session_id, interaction.offered_at) == ("ada", "ehub_1", 101.0)


def test_accepting_makes_the_user_an_agent_and_clears_the_offer() -> None:
    interaction = active("ada")
    assert interaction.state is InteractionState.ACTIVE
    assert interaction.agent_ids == ["ada"]
    assert (interaction.offered_to, interaction.ehub_session_id) == (None, None)


def test_only_the_offered_user_may_accept() -> None:
    interaction = offered("ada")
    with pytest.raises(RuleViolation) as caught:
        interaction.accept("bob", "ehub_1")
    assert caught.value.reason == "notOffered"
    assert interaction.state is InteractionState.OFFERED


def test_accepting_with_another_ehub_session_is_refused_naming_the_field() -> None:
    interaction = offered("ada")
    with pytest.raises(RuleViolation) as caught:
        interaction.accept("ada", "ehub_stale")
    assert caught.value.problems[0].scope == "ehubSessionId"
    assert interaction.state is InteractionState.OFFERED


def test_an_interaction_that_is_not_offered_cannot_be_accepted() -> None:
    with pytest.raises(RuleViolation) as caught:
        queued().accept("ada", "ehub_1")
    assert caught.value.reason == "notOffered"


def test_withdrawing_a_declined_offer_requeues_and_remembers_who_declined() -> None:
    interaction = offered("ada")
    assert interaction.withdraw_offer(declined=True) == "ada"
    assert interaction.state is InteractionState.QUEUED
    assert (interaction.offered_to, interaction.ehub_session_id, interaction.offered_at) == (None, None, None)
    assert interaction.declined_by == ["ada"]


def test_withdrawing_an_offer_that_was_not_declined_excludes_nobody() -> None:
    interaction = offered("ada")
    interaction.withdraw_offer(declined=False)
    assert interaction.declined_by == []


def test_a_user_who_declines_twice_is_remembered_once() -> None:
    interaction = offered("ada")
    interaction.withdraw_offer(declined=True)
    interaction.offer("ada", "ehub_2", at=102.0)
    interaction.withdraw_offer(declined=True)
    assert interaction.declined_by == ["ada"]


def test_ending_records_who_why_and_when_and_clears_any_offer() -> None:
    interaction = offered("ada")
    interaction.end(EntityType.CONTACT, "contactDisconnected", at=150.0)
    assert interaction.is_ended
    assert (interaction.ended_by, interaction.end_reason, interaction.ended_at) == (
        "Contact",
        "contactDisconnected",
        150.0,
    )
    assert (interaction.offered_to, interaction.ehub_session_id) == (None, None)


@pytest.mark.parametrize(
    "act",
    [
        lambda i: i.end(AGENT, "again", at=1.0),
        lambda i: i.offer("bob", "ehub_2", at=1.0),
        lambda i: i.add_monitor("sue"),
        lambda i: i.accept("ada", "ehub_1"),
        lambda i: i.check_contact_may_send(),
        lambda i: i.check_user_may_send("ada", AGENT),
    ],
    ids=["end", "offer", "monitor", "accept", "contact-send", "user-send"],
)
def test_an_ended_interaction_refuses_everything_as_gone(act: Callable[[Interaction], object]) -> None:
    interaction = active("ada")
    interaction.end(AGENT, "agentDisconnected", at=150.0)
    with pytest.raises(Gone) as caught:
        act(interaction)
    assert caught.value.reason == "interactionEnded"


def test_a_monitor_is_listed_after_the_agents_and_only_once() -> None:
    interaction = active("ada", monitor="sue")
    interaction.add_monitor("sue")
    assert interaction.user_ids == ["ada", "sue"]


def test_the_handling_agent_cannot_also_monitor() -> None:
    with pytest.raises(RuleViolation) as caught:
        active("ada").add_monitor("ada")
    assert caught.value.reason == "alreadyParticipant"


# -- who may send what (contract section 3) --------------------------------------------------------
@pytest.mark.parametrize("entity_type", [AGENT, SYSTEM])
def test_the_agent_may_send_as_agent_or_system(entity_type: EntityType) -> None:
    active("ada").check_user_may_send("ada", entity_type)


def test_the_agent_may_not_send_as_monitor() -> None:
    with pytest.raises(RuleViolation) as caught:
        active("ada").check_user_may_send("ada", MONITOR)
    assert (caught.value.problems[0].scope, caught.value.reason) == ("entityType", "entityTypeNotAllowed")


def test_a_monitoring_supervisor_may_send_as_monitor() -> None:
    active("ada", monitor="sue").check_user_may_send("sue", MONITOR)


@pytest.mark.parametrize("entity_type", [AGENT, SYSTEM])
def test_a_monitoring_supervisor_may_send_only_as_monitor(entity_type: EntityType) -> None:
    with pytest.raises(RuleViolation) as caught:
        active("ada", monitor="sue").check_user_may_send("sue", entity_type)
    assert caught.value.reason == "entityTypeNotAllowed"


@pytest.mark.parametrize("entity_type", [AGENT, SYSTEM, MONITOR])
def test_the_offered_user_may_not_send_before_accepting(entity_type: EntityType) -> None:
    with pytest.raises(RuleViolation) as caught:
        offered("ada").check_user_may_send("ada", entity_type)
    assert caught.value.reason == "notActive"


@pytest.mark.parametrize("entity_type", [AGENT, SYSTEM, MONITOR])
def test_an_outsider_is_not_a_participant(entity_type: EntityType) -> None:
    with pytest.raises(RuleViolation) as caught:
        active("ada", monitor="sue").check_user_may_send("bob", entity_type)
    assert (caught.value.problems[0].scope, caught.value.reason) == ("userId", "notParticipant")


def test_the_contact_may_not_send_before_an_agent_accepts() -> None:
    for interaction in (queued(), offered("ada")):
        with pytest.raises(RuleViolation) as caught:
            interaction.check_contact_may_send()
        assert caught.value.reason == "notActive"
    active("ada").check_contact_may_send()


def test_message_sequence_numbers_count_up_from_one() -> None:
    interaction = queued()
    assert [interaction.next_seq() for _ in range(3)] == [1, 2, 3]


@pytest.mark.parametrize(("entity_type", "whisper"), [(MONITOR, True), (AGENT, False), (SYSTEM, False)])
def test_only_a_monitor_message_is_a_whisper(entity_type: EntityType, whisper: bool) -> None:
    message = Message("msg_1", "acme", "int_1", 1, MessageKind.TEXT, "hi", entity_type, "Sue", "sue", 1.0)
    assert message.is_whisper is whisper
