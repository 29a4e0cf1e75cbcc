"""Organizations, OAuth clients, API keys, access tokens and deployment secrets."""

from __future__ import annotations

import asyncio

import pytest

from parley.domain.errors import AlreadyExists
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s


async def test_an_organization_is_stored_once(store: Store) -> None:
    await store.add_organization(s.organization("acme", at=2.0))
    await store.add_organization(s.organization("beta", at=1.0))

    with pytest.raises(AlreadyExists) as raised:
        await store.add_organization(s.organization("acme", at=3.0))

    assert (raised.value.problems[0].scope, raised.value.reason) == ("orgId", "duplicateOrganization")
    assert await store.get_organization("acme") == s.organization("acme", at=2.0)
    assert await store.get_organization("nope") is None
    assert [o.org_id for o in await store.list_organizations()] == ["beta", "acme"]


async def test_a_client_reads_back_and_is_revoked_once(store: Store) -> None:
    client = s.client(name="ci", scopes=frozenset({"messagingapi", "provisioningapi"}))
    await store.add_client(client)

    assert await store.get_client("cli_1") == client
    assert await store.revoke_client("cli_1", 50.0) is True
    assert await store.revoke_client("cli_1", 60.0) is False
    assert await store.revoke_client("unknown", 60.0) is False
    revoked = await store.get_client("cli_1")
    assert revoked is not None
    assert revoked.revoked_at == 50.0
    assert await store.get_client("unknown") is None


async def test_an_api_key_is_found_by_its_hash_and_revoked(store: Store) -> None:
    await store.add_api_key(s.api_key())

    assert await store.get_api_key_by_hash("hash_1") == s.api_key()
    assert await store.get_api_key_by_hash("other") is None
    assert await store.revoke_api_key("key_1", 9.0) is True
    assert await store.revoke_api_key("key_1", 10.0) is False
    assert await store.revoke_api_key("unknown", 10.0) is False
    key = await store.get_api_key_by_hash("hash_1")
    assert key is not None
    assert key.revoked_at == 9.0


@pytest.mark.parametrize(("key_id", "key_hash"), [("key_1", "hash_2"), ("key_2", "hash_1")])
async def test_an_api_key_id_or_hash_is_unique(store: Store, key_id: str, key_hash: str) -> None:
    await store.add_api_key(s.api_key())

    with pytest.raises(AlreadyExists) as raised:
        await store.add_api_key(s.api_key(key_id, key_hash))

    assert raised.value.reason == "duplicateApiKey"


async def test_revoking_a_clients_tokens_touches_only_its_live_ones(store: Store) -> None:
    for token in (s.token("t1"), s.token("t2"), s.token("t3", client_id="cli_2")):
        await store.add_token(token)
    assert await store.get_token("t1") == s.token("t1")
    assert await store.get_token("nope") is None

    assert await store.revoke_tokens_of_client("cli_1", 20.0) == 2
    assert await store.revoke_tokens_of_client("cli_1", 30.0) == 0

    first, other = await store.get_token("t1"), await store.get_token("t3")
    assert first is not None
    assert other is not None
    assert (first.revoked_at, other.revoked_at) == (20.0, None)
    assert not first.is_valid_at(10.0)


async def test_a_secret_keeps_its_first_value(store: Store) -> None:
    assert await store.get_or_create_secret("signing", "first") == "first"
    assert await store.get_or_create_secret("signing", "second") == "first"
    assert await store.get_or_create_secret("other", "x") == "x"


async def test_racing_creators_of_a_secret_all_get_the_same_value(store: Store) -> None:
    values = await asyncio.gather(*(store.get_or_create_secret("race", f"v{n}") for n in range(50)))

    assert set(values) == {values[0]}


async def test_the_store_answers_a_ping(store: Store) -> None:
    await store.ping()
