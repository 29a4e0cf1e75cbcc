"""Who gets the next offer: the ready user with a free slot who has been idle longest (contract 6)."""

from __future__ import annotations

from parley.domain.routing import Availability, choose_user


def ready(user_id: str, idle_since: float, max_concurrent: int = 1, handling: int = 0) -> Availability:
    return Availability(user_id, ready=True, max_concurrent=max_concurrent, idle_since=idle_since, handling=handling)


def chosen(*candidates: Availability, exclude: tuple[str, ...] = ()) -> str | None:
    best = choose_user(candidates, exclude)
    return None if best is None else best.user_id


def test_the_longest_idle_user_is_chosen() -> None:
    assert chosen(ready("ada", 300.0), ready("bob", 100.0), ready("cy", 200.0)) == "bob"


def test_a_user_who_is_not_ready_is_never_chosen() -> None:
    away = Availability("bob", ready=False, idle_since=0.0)
    assert chosen(ready("ada", 300.0), away) == "ada"


def test_a_user_without_a_free_slot_is_skipped() -> None:
    assert chosen(ready("bob", 100.0, max_concurrent=2, handling=2), ready("ada", 300.0)) == "ada"


def test_a_user_with_a_second_slot_is_still_chosen() -> None:
    assert chosen(ready("bob", 100.0, max_concurrent=2, handling=1), ready("ada", 300.0)) == "bob"


def test_excluded_users_are_skipped() -> None:
    assert chosen(ready("bob", 100.0), ready("ada", 300.0), exclude=("bob",)) == "ada"


def test_nobody_is_chosen_when_nobody_fits() -> None:
    assert chosen() is None
    assert chosen(ready("bob", 100.0, handling=1), ready("ada", 300.0), exclude=("ada",)) is None


def test_a_tie_goes_to_the_smaller_user_id_whatever_the_order() -> None:
    assert chosen(ready("bob", 100.0), ready("ada", 100.0)) == "ada"
    assert chosen(ready("ada", 100.0), ready("bob", 100.0)) == "ada"


def test_becoming_ready_starts_the_idle_time_now() -> None:
    a = Availability("ada")
    a.become_ready(3, now=500.0)
    assert (a.ready, a.max_concurrent, a.idle_since, a.reason_id) == (True, 3, 500.0, "")
    assert a.has_free_slot


def test_saying_ready_again_keeps_the_place_in_line() -> None:
    a = Availability("ada")
    a.become_ready(1, now=500.0)
    a.become_ready(2, now=900.0)
    assert (a.idle_since, a.max_concurrent) == (500.0, 2)


def test_idle_time_counts_from_the_later_of_ready_and_the_last_end() -> None:
    ended_last = Availability("ada")
    ended_last.become_ready(1, now=100.0)
    ended_last.handling = 1
    ended_last.finished_one(now=400.0)
    assert (ended_last.idle_since, ended_last.handling) == (400.0, 0)

    ready_last = Availability("bob")
    ready_last.finished_one(now=200.0)
    ready_last.become_ready(1, now=300.0)
    assert ready_last.idle_since == 300.0


def test_not_ready_keeps_its_reason_and_stops_offers() -> None:
    a = ready("ada", 100.0)
    a.become_not_ready("lunch", now=150.0)
    assert (a.ready, a.reason_id, a.has_free_slot, a.since) == (False, "lunch", False, 150.0)
    a.become_ready(1, now=200.0)
    assert a.reason_id == ""
