"""Interactions (a chat or SMS conversation), their participants and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from parley.domain.errors import Gone, RuleViolation

# The str() of a StrEnum member is its value. The hot paths write str(member): on Python 3.11
# member.value runs a Python-level property even in compiled code.


class ChannelType(StrEnum):
    CHAT = "chat"
    SMS = "sms"


class InteractionState(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    ACTIVE = "active"
    ENDED = "ended"


class EntityType(StrEnum):
    AGENT = "Agent"
    MONITOR = "Monitor"
    SYSTEM = "System"
    CONTACT = "Contact"


# EntityType by value: calling the enum class runs EnumMeta.__call__, interpreted Python, per request.
ENTITY_TYPE_OF: Final[dict[str, EntityType]] = {str(t): t for t in EntityType}

# The entity types a user may name in the seed's messaging bodies.

CHAT_TEXT_LIMIT: Final = 4096
ENTITY_NAME_LIMIT: Final = 128
URL_LIMIT: Final = 2048


class MessageKind(StrEnum):
    TEXT = "text"
    URL = "url"


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class Message:
    message_id: Final[str]
    org_id: Final[str]
    interaction_id: Final[str]
    seq: Final[int]
    kind: Final[MessageKind]
    body: Final[str]
    entity_type: Final[EntityType]
    entity_name: Final[str]
    user_id: Final[str | None]
    sent_at: Final[float]

    def __init__(
        self,
        message_id: str,
        org_id: str,
        interaction_id: str,
        seq: int,
        kind: MessageKind,
        body: str,
        entity_type: EntityType,
        entity_name: str,
        user_id: str | None,
        sent_at: float,
    ) -> None:
        self.message_id = message_id
        self.org_id = org_id
        self.interaction_id = interaction_id
        self.seq = seq
        self.kind = kind
        self.body = body
        self.entity_type = entity_type
        self.entity_name = entity_name
        self.user_id = user_id
        self.sent_at = sent_at

    @property
    def is_whisper(self) -> bool:
        """A supervisor's Monitor message: users see it, the contact never does."""
        return self.entity_type is EntityType.MONITOR


@dataclass(slots=True)
class Interaction:
    interaction_id: str
    org_id: str
    channel_type: ChannelType
    contact_id: str
    contact_name: str
    created_at: float
    contact_address: str = ""
    contact_email: str = ""
    contact_data: dict[str, Any] = field(default_factory=dict)
    state: InteractionState = InteractionState.QUEUED
    offered_to: str | None = None
    ehub_session_id: str | None = None
    offered_at: float | None = None
    agent_ids: list[str] = field(default_factory=list)
    monitor_ids: list[str] = field(default_factory=list)
    declined_by: list[str] = field(default_factory=list)
    ended_at: float | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    last_seq: int = 0
    accepted_at: float | None = None
    former_user_ids: list[str] = field(default_factory=list)  # agents transferred away, monitors who left

    # -- state -----------------------------------------------------------------------------
    @property
    def is_ended(self) -> bool:
        return self.state is InteractionState.ENDED

    @property
    def user_ids(self) -> list[str]:
        """Every user taking part (agents first, then monitors), without duplicates."""
        if not self.monitor_ids and len(self.agent_ids) <= 1:  # most chats: one agent
            return list(self.agent_ids)
        seen: dict[str, None] = dict.fromkeys(self.agent_ids)
        seen.update(dict.fromkeys(self.monitor_ids))
        return list(seen)

    @property
    def everyone(self) -> list[str]:
        """Every user who is or was in the interaction: those who left first, then agents, then monitors."""
        return list(dict.fromkeys([*self.former_user_ids, *self.agent_ids, *self.monitor_ids]))

    def ensure_open(self) -> None:
        if self.is_ended:
            raise Gone.of("interactionId", "interactionEnded", f"interaction {self.interaction_id} has ended")

    def offer(self, user_id: str, ehub_session_id: str, at: float) -> None:
        self.ensure_open()
        self.state = InteractionState.OFFERED
        self.offered_to = user_id
        self.ehub_session_id = ehub_session_id
        self.offered_at = at

    def withdraw_offer(self, declined: bool) -> str | None:
        """Put the interaction back in the queue; returns who had the offer."""
        user_id = self.offered_to
        if user_id and declined and user_id not in self.declined_by:
            self.declined_by.append(user_id)
        self.state = InteractionState.QUEUED
        self.offered_to = None
        self.ehub_session_id = None
        self.offered_at = None
        return user_id

    def check_offer(self, user_id: str, ehub_session_id: str) -> None:
        self.ensure_open()
        if self.state is not InteractionState.OFFERED or self.offered_to != user_id:
            raise RuleViolation.of(
                "interactionId", "notOffered", f"interaction {self.interaction_id} is not offered to you"
            )
        if ehub_session_id != self.ehub_session_id:
            raise RuleViolation.of(
                "ehubSessionId", "invalidEhubSession", "ehubSessionId does not match the current offer"
            )

    def accept(self, user_id: str, ehub_session_id: str, at: float | None = None) -> None:
        self.check_offer(user_id, ehub_session_id)
        self.state = InteractionState.ACTIVE
        if self.accepted_at is None:
            self.accepted_at = at
        self.offered_to = None
        self.ehub_session_id = None
        if user_id not in self.agent_ids:
            self.agent_ids.append(user_id)

    def transfer_away(self) -> list[str]:
        """The agents leave an active interaction, which waits for its next agent; returns who left."""
        self.ensure_open()
        if self.state is not InteractionState.ACTIVE:
            raise RuleViolation.of("interactionId", "notActive", "only an active interaction can be transferred")
        leaving = list(self.agent_ids)
        self.former_user_ids.extend(u for u in leaving if u not in self.former_user_ids)
        self.agent_ids.clear()
        self.declined_by[:] = leaving  # routing offers it to anyone but who just passed it on
        self.state = InteractionState.QUEUED
        return leaving

    def remove_monitor(self, user_id: str) -> None:
        self.monitor_ids.remove(user_id)
        if user_id not in self.former_user_ids:
            self.former_user_ids.append(user_id)

    def add_monitor(self, user_id: str) -> None:
        self.ensure_open()
        if user_id in self.agent_ids:
            raise RuleViolation.of("interactionId", "alreadyParticipant", "you already handle this interaction")
        if user_id not in self.monitor_ids:
            self.monitor_ids.append(user_id)

    def end(self, by: EntityType, reason: str, at: float) -> None:
        self.ensure_open()
        self.state = InteractionState.ENDED
        self.ended_at = at
        self.ended_by = by.value
        self.end_reason = reason
        self.offered_to = None
        self.ehub_session_id = None

    # -- who may say what ---------------------------------------------------------------------
    def check_user_may_send(self, user_id: str, entity_type: EntityType) -> None:
        """Raises unless ``user_id`` may post as ``entity_type`` now (contract section 3)."""
        self.ensure_open()
        if user_id in self.agent_ids:
            if self.state is not InteractionState.ACTIVE:
                raise RuleViolation.of("interactionId", "notActive", "the interaction is not active")
            if entity_type not in (EntityType.AGENT, EntityType.SYSTEM):
                raise RuleViolation.of("entityType", "entityTypeNotAllowed", "an agent sends as Agent or System")
            return
        if user_id in self.monitor_ids:
            if entity_type is not EntityType.MONITOR:
                raise RuleViolation.of("entityType", "entityTypeNotAllowed", "a monitoring supervisor sends as Monitor")
            return
        if user_id == self.offered_to:
            raise RuleViolation.of("interactionId", "notActive", "accept the interaction before sending")
        raise RuleViolation.of(
            "userId", "notParticipant", f"user {user_id} is not a participant of {self.interaction_id}"
        )

    def check_contact_may_send(self) -> None:
        self.ensure_open()
        if self.state is not InteractionState.ACTIVE:
            raise RuleViolation.of("interactionId", "notActive", "no agent has joined the chat yet")

    def next_seq(self) -> int:
        self.last_seq += 1
        return self.last_seq
