"""Server-owned typing state: renewals, expiry and stopping (contract section 3)."""

from __future__ import annotations

from parley.domain.interactions import EntityType
from parley.domain.typing import MAX_EXPIRES_SECONDS, TypingTracker, Typist

KEY = ("int_1", "user:ada")
OTHER = ("int_1", "contact:ctc_1")
ELSEWHERE = ("int_2", "user:ada")
META = Typist("acme", EntityType.AGENT, "Ada", "ada")
CAROL = Typist("acme", EntityType.CONTACT, "Carol")


def test_the_first_composing_is_forwarded_and_expires_after_its_seconds() -> None:
    tracker = TypingTracker()
    assert tracker.composing(KEY, 10, now=100.0, typist=META)
    state = tracker.get(KEY)
    assert state is not None
    assert (state.until, state.last_forwarded, state.expires_after) == (110.0, 100.0, 10)


def test_a_renewal_within_a_second_is_absorbed_but_extends_the_expiry() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 10, now=100.0, typist=META)
    assert not tracker.composing(KEY, 10, now=100.9, typist=META)
    state = tracker.get(KEY)
    assert state is not None
    assert state.until == 110.9
    assert state.last_forwarded == 100.0


def test_an_absorbed_renewal_never_shortens_the_expiry() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 20, now=100.0, typist=META)
    tracker.composing(KEY, 1, now=100.5, typist=META)
    state = tracker.get(KEY)
    assert state is not None
    assert state.until == 120.0


def test_a_renewal_a_second_after_the_last_forwarded_one_is_forwarded_again() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 10, now=100.0, typist=META)
    tracker.composing(KEY, 10, now=100.5, typist=META)
    assert tracker.composing(KEY, 10, now=101.0, typist=META)
    state = tracker.get(KEY)
    assert state is not None
    assert (state.until, state.last_forwarded) == (111.0, 101.0)


def test_renewals_every_half_second_are_forwarded_about_once_a_second() -> None:
    tracker = TypingTracker()
    forwarded = [tracker.composing(KEY, 10, now=100.0 + i / 2, typist=META) for i in range(10)]
    assert forwarded == [True, False] * 5


def test_expiry_is_capped_at_thirty_seconds_and_at_least_one() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 3600, now=100.0, typist=META)
    tracker.composing(OTHER, 0, now=100.0, typist=META)
    long, short = tracker.get(KEY), tracker.get(OTHER)
    assert long is not None and short is not None
    assert (long.until, long.expires_after) == (100.0 + MAX_EXPIRES_SECONDS, MAX_EXPIRES_SECONDS)
    assert short.until == 101.0


def test_senders_are_tracked_apart() -> None:
    tracker = TypingTracker()
    assert tracker.composing(KEY, 10, now=100.0, typist=META)
    assert tracker.composing(OTHER, 10, now=100.2, typist=META)
    assert tracker.composing(ELSEWHERE, 10, now=100.4, typist=META)


def test_expire_removes_and_returns_only_what_is_due() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 5, now=100.0, typist=META)
    tracker.composing(OTHER, 10, now=100.0, typist=CAROL)
    assert tracker.next_expiry() == 105.0
    assert tracker.expire(104.9) == []
    assert tracker.expire(105.0) == [(KEY, META)]
    assert tracker.get(KEY) is None
    assert tracker.next_expiry() == 110.0
    assert tracker.expire(200.0) == [(OTHER, CAROL)]
    assert tracker.next_expiry() is None


def test_after_expiry_the_next_composing_is_forwarded() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 1, now=100.0, typist=META)
    tracker.expire(101.0)
    assert tracker.composing(KEY, 1, now=101.0, typist=META)


def test_stop_returns_the_meta_of_a_typing_sender_once() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 10, now=100.0, typist=META)
    assert tracker.stop(KEY) == META
    assert tracker.stop(KEY) is None
    assert tracker.expire(1e9) == []


def test_stop_after_an_absorbed_renewal_lets_the_next_composing_through() -> None:
    tracker = TypingTracker()
    tracker.composing(KEY, 10, now=100.0, typist=META)
    tracker.stop(KEY)
    assert tracker.composing(KEY, 10, now=100.3, typist=META)


def test_stop_interaction_ends_every_sender_of_that_interaction_only() -> None:
    tracker = TypingTracker()
    for key in (KEY, OTHER, ELSEWHERE):
        tracker.composing(key, 10, now=100.0, typist=Typist("acme", EntityType.AGENT, "|".join(key)))
    stopped = tracker.stop_interaction("int_1")
    assert sorted(k for k, _ in stopped) == sorted([KEY, OTHER])
    assert all(typist.entity_name == "|".join(key) for key, typist in stopped)
    assert tracker.get(ELSEWHERE) is not None
    assert tracker.stop_interaction("int_1") == []
