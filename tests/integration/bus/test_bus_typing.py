"""Typing state kept by the event engine (contract section 3)."""

from __future__ import annotations

from parley.domain.interactions import EntityType
from parley.domain.typing import Typist
from parley.service.ports import EventEngine

T0 = 1_790_000_000.0
ALICE = Typist("org1", EntityType.AGENT, "Alice", "u1")
BOB = Typist("org1", EntityType.AGENT, "Bob", "u2")


async def test_composing_is_forwarded_and_quick_renewals_are_absorbed(engine: EventEngine) -> None:
    key = ("i1", "u1")
    assert await engine.typing_composing(key, 10, T0, ALICE)
    assert not await engine.typing_composing(key, 10, T0 + 0.5, ALICE)
    assert not await engine.typing_composing(key, 10, T0 + 0.99, ALICE)
    assert await engine.typing_composing(key, 10, T0 + 1.0, ALICE)


async def test_an_absorbed_renewal_still_extends_the_expiry(engine: EventEngine) -> None:
    key = ("i1", "u1")
    await engine.typing_composing(key, 10, T0, ALICE)
    await engine.typing_composing(key, 10, T0 + 0.5, ALICE)
    assert await engine.typing_expire(T0 + 10.2) == []
    assert await engine.typing_expire(T0 + 10.5) == [(key, ALICE)]
    assert await engine.typing_expire(T0 + 20) == []


async def test_expiry_is_capped_by_the_server(engine: EventEngine) -> None:
    await engine.typing_composing(("i1", "u1"), 300, T0, ALICE)
    assert await engine.typing_expire(T0 + 29.9) == []
    assert await engine.typing_expire(T0 + 30) == [(("i1", "u1"), ALICE)]


async def test_stopping_returns_the_meta_once(engine: EventEngine) -> None:
    await engine.typing_composing(("i1", "u1"), 10, T0, ALICE)
    assert await engine.typing_stop(("i1", "u1")) == ALICE
    assert await engine.typing_stop(("i1", "u1")) is None
    assert await engine.typing_expire(T0 + 60) == []
    assert await engine.typing_composing(("i1", "u1"), 10, T0 + 0.5, ALICE)


async def test_ending_an_interaction_stops_only_its_typists(engine: EventEngine) -> None:
    await engine.typing_composing(("i1", "u1"), 10, T0, ALICE)
    await engine.typing_composing(("i1", "u2"), 10, T0, BOB)
    await engine.typing_composing(("i2", "u1"), 10, T0, ALICE)
    stopped = await engine.typing_stop_interaction("i1")
    assert sorted(stopped, key=lambda item: item[0]) == [(("i1", "u1"), ALICE), (("i1", "u2"), BOB)]
    assert await engine.typing_stop_interaction("i1") == []
    assert await engine.typing_expire(T0 + 60) == [(("i2", "u1"), ALICE)]
