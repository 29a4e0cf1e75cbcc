"""Who gets the next offer: the ready user with a free slot who has been idle longest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(slots=True)
class Availability:
    user_id: str
    ready: bool = False
    max_concurrent: int = 1
    idle_since: float = 0.0
    handling: int = 0  # active interactions plus outstanding offers
    reason_id: str = ""
    since: float = 0.0  # when the user last changed between ready and notReady (0: never)

    @property
    def has_free_slot(self) -> bool:
        return self.ready and self.handling < self.max_concurrent

    def become_ready(self, max_concurrent: int, now: float) -> None:
        if not self.ready:
            self.idle_since = max(self.idle_since, now)
            self.since = now
        self.ready = True
        self.max_concurrent = max_concurrent
        self.reason_id = ""

    def become_not_ready(self, reason_id: str, now: float) -> None:
        if self.ready or reason_id != self.reason_id:
            self.since = now
        self.ready = False
        self.reason_id = reason_id

    def finished_one(self, now: float) -> None:
        self.handling = max(0, self.handling - 1)
        self.idle_since = now


def choose_user(candidates: Iterable[Availability], exclude: Iterable[str] = ()) -> Availability | None:
    excluded = set(exclude)
    best: Availability | None = None
    for a in candidates:
        if not a.has_free_slot or a.user_id in excluded:
            continue
        if best is None or (a.idle_since, a.user_id) < (best.idle_since, best.user_id):
            best = a
    return best
