"""Typing indicators owned by the server (contract section 3).

Pure bookkeeping: the service layer feeds it the time and turns its answers into events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from parley.domain.interactions import EntityType

MAX_EXPIRES_SECONDS: Final = 30
RENEWAL_ABSORB_SECONDS: Final = 1.0

TypingKey = tuple[str, str]  # (interaction id, sender id)


@dataclass(frozen=True, slots=True)
class Typist:
    """Who is typing, as its typing events name it; kept until the idle event is sent."""

    org_id: str
    entity_type: EntityType
    entity_name: str
    user_id: str | None = None


@dataclass(slots=True)
class TypingState:
    until: float
    last_forwarded: float
    expires_after: int
    typist: Typist


class TypingTracker:
    def __init__(self) -> None:
        self._states: dict[TypingKey, TypingState] = {}

    def composing(self, key: TypingKey, expires_after: int, now: float, typist: Typist) -> bool:
        """Record a composing notification; True when it must be forwarded to the others.

        A renewal less than a second after the last forwarded one only extends the expiry.
        """
        expires_after = max(1, min(MAX_EXPIRES_SECONDS, expires_after))
        state = self._states.get(key)
        until = now + expires_after
        if state is not None and now - state.last_forwarded < RENEWAL_ABSORB_SECONDS:
            state.until = max(state.until, until)
            return False
        self._states[key] = TypingState(until, now, expires_after, typist)
        return True

    def stop(self, key: TypingKey) -> Typist | None:
        """The sender stopped typing (sent a message, left); who it was if it was typing."""
        state = self._states.pop(key, None)
        return None if state is None else state.typist

    def stop_interaction(self, interaction_id: str) -> list[tuple[TypingKey, Typist]]:
        keys = [k for k in self._states if k[0] == interaction_id]
        return [(k, self._states.pop(k).typist) for k in keys]

    def expire(self, now: float) -> list[tuple[TypingKey, Typist]]:
        """Remove and return every state whose time has passed."""
        done = [k for k, s in self._states.items() if s.until <= now]
        return [(k, self._states.pop(k).typist) for k in done]

    def next_expiry(self) -> float | None:
        return min((s.until for s in self._states.values()), default=None)

    def get(self, key: TypingKey) -> TypingState | None:
        return self._states.get(key)
