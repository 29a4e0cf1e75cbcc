"""The token endpoint limits failed client authentications per client id and per client IP (contract 1.2)."""

from __future__ import annotations

import pytest

from parley.service.accounts import IssuedClient
from parley.service.tokens import OAuthError
from parley.settings import Settings
from tests.clock import FakeClock
from tests.unit.world import World

BURST = Settings().token_failure_burst
RATE = Settings().token_failure_rate_per_second


@pytest.fixture
async def client(world: World) -> IssuedClient:
    return await world.parley.accounts.create_client(world.org_id, ["messagingapi"])


async def attempt(world: World, client_id: str, secret: str, ip: str = "203.0.113.1") -> int:
    """The status the token endpoint's use case answers: 200, or the OAuth error's."""
    try:
        await world.parley.tokens.issue(world.org_id, "client_credentials", client_id, secret, None, ip)
    except OAuthError as exc:
        return exc.status
    return 200


async def test_after_a_burst_of_failures_a_client_id_is_refused_429_even_with_its_secret(
    world: World, client: IssuedClient
) -> None:
    client_id = client.client.client_id
    assert [await attempt(world, client_id, "wrong", f"198.51.100.{n}") for n in range(BURST)] == [401] * BURST
    with pytest.raises(OAuthError) as refused:
        await world.parley.tokens.issue(world.org_id, "client_credentials", client_id, client.secret, None, "192.0.2.9")
    assert refused.value.status == 429
    assert refused.value.retry_after == round(1 / RATE)
    [(name, _, decision)] = refused.value.limits
    assert (name, decision.remaining) == ("client", 0)


async def test_a_refused_client_is_let_in_again_once_one_failure_has_drained(
    world: World, client: IssuedClient, clock: FakeClock
) -> None:
    client_id = client.client.client_id
    for _ in range(BURST):
        await attempt(world, client_id, "wrong")
    assert await attempt(world, client_id, client.secret) == 429
    clock.advance(1 / RATE)
    assert await attempt(world, client_id, client.secret) == 200


async def test_failures_from_one_address_are_limited_whatever_client_id_they_try(
    world: World, client: IssuedClient
) -> None:
    assert [await attempt(world, f"guess{n}", "wrong") for n in range(BURST)] == [401] * BURST
    assert await attempt(world, client.client.client_id, client.secret) == 429
    assert await attempt(world, client.client.client_id, client.secret, ip="203.0.113.2") == 200


async def test_successful_authentications_are_not_counted(world: World, client: IssuedClient) -> None:
    for _ in range(BURST * 2):
        assert await attempt(world, client.client.client_id, client.secret) == 200


async def test_a_failure_says_how_many_attempts_are_left(world: World, client: IssuedClient) -> None:
    with pytest.raises(OAuthError) as refused:
        await world.parley.tokens.issue(world.org_id, "client_credentials", client.client.client_id, "no", None, "x")
    assert refused.value.status == 401
    left = [(name, decision.remaining) for name, _, decision in refused.value.limits]
    assert left == [("client", BURST - 1), ("address", BURST - 1)]


async def test_a_request_without_credentials_counts_against_its_address(world: World, client: IssuedClient) -> None:
    for _ in range(BURST):
        assert await attempt(world, "", "") == 401
    assert await attempt(world, client.client.client_id, client.secret) == 429
