"""The client-credentials token service and the checks on every agent-side request (contract 1)."""

from __future__ import annotations

import pytest

from parley.api.errors import status_of
from parley.domain.accounts import ALL_SCOPES
from parley.domain.errors import Unauthenticated
from parley.service.accounts import IssuedClient
from parley.service.tokens import EXPIRES_IN_SECONDS, TOKEN_LIFETIME_SECONDS, OAuthError
from tests.unit.world import World

MESSAGING = "messagingapi"
STREAMING = "streamingapi"


@pytest.fixture
async def client(world: World) -> IssuedClient:
    return await world.parley.accounts.create_client(world.org_id, [MESSAGING, STREAMING])


@pytest.fixture
async def api_key(world: World) -> str:
    return (await world.parley.accounts.create_api_key(world.org_id)).value


async def issue(
    world: World,
    client: IssuedClient,
    *,
    realm: str | None = "acme",
    grant_type: str | None = "client_credentials",
    secret: str | None = None,
    scope: str | None = None,
) -> str:
    issued = await world.parley.tokens.issue(
        realm, grant_type, client.client.client_id, client.secret if secret is None else secret, scope, "192.0.2.1"
    )
    return issued.access_token


async def refusal(world: World, client: IssuedClient, **kwargs: str | None) -> tuple[int, str]:
    with pytest.raises(OAuthError) as caught:
        await issue(world, client, **kwargs)
    return caught.value.status, caught.value.error


async def authenticate(world: World, token: str, api_key: str, scope: str = MESSAGING, org_id: str = "acme") -> str:
    principal = await world.parley.auth.authenticate(org_id, f"Bearer {token}", api_key, scope)
    return principal.client_id


async def auth_refusal(
    world: World, authorization: str | None, api_key: str | None, scope: str = MESSAGING
) -> tuple[str, str]:
    with pytest.raises(Unauthenticated) as caught:
        await world.parley.auth.authenticate("acme", authorization, api_key, scope)
    assert status_of(caught.value) == 401
    return caught.value.problems[0].scope, caught.value.reason


# -- issuing ------------------------------------------------------------------------------------
async def test_a_token_without_a_scope_gets_every_scope_of_the_client(world: World, client: IssuedClient) -> None:
    issued = await world.parley.tokens.issue(
        "acme", "client_credentials", client.client.client_id, client.secret, None, "192.0.2.1"
    )
    assert issued.scopes == {MESSAGING, STREAMING}
    assert issued.expires_in == EXPIRES_IN_SECONDS == 3599
    assert issued.access_token.startswith("pat_")


async def test_a_token_may_ask_for_a_subset_of_the_clients_scopes(world: World, client: IssuedClient) -> None:
    issued = await world.parley.tokens.issue(
        "acme", "client_credentials", client.client.client_id, client.secret, f"  {STREAMING} ", "192.0.2.1"
    )
    assert issued.scopes == {STREAMING}


async def test_a_scope_the_client_lacks_is_invalid_scope(world: World, client: IssuedClient) -> None:
    assert await refusal(world, client, scope=f"{MESSAGING} provisioningapi") == (400, "invalid_scope")
    assert await refusal(world, client, scope="everything") == (400, "invalid_scope")


@pytest.mark.parametrize(
    ("kwargs", "answer"),
    [
        ({"realm": None}, (400, "invalid_request")),
        ({"realm": ""}, (400, "invalid_request")),
        ({"grant_type": None}, (400, "invalid_request")),
        ({"grant_type": "password"}, (400, "unsupported_grant_type")),
        ({"secret": ""}, (401, "invalid_client")),
        ({"secret": "pcs_wrong"}, (401, "invalid_client")),
        ({"realm": "nowhere"}, (401, "invalid_client")),
    ],
)
async def test_a_bad_token_request_gets_the_rfc_6749_error(
    world: World, client: IssuedClient, kwargs: dict[str, str | None], answer: tuple[int, str]
) -> None:
    assert await refusal(world, client, **kwargs) == answer


async def test_a_client_of_another_organization_is_invalid_client(world: World) -> None:
    await world.parley.accounts.create_organization("globex")
    outsider = await world.parley.accounts.create_client("globex")
    assert await refusal(world, outsider, realm="acme") == (401, "invalid_client")
    assert await issue(world, outsider, realm="globex")


async def test_a_revoked_client_gets_no_more_tokens(world: World, client: IssuedClient) -> None:
    await world.parley.accounts.revoke_client(client.client.client_id)
    assert await refusal(world, client) == (401, "invalid_client")


async def test_a_client_with_no_scopes_asked_gets_all_four(world: World) -> None:
    everything = await world.parley.accounts.create_client(world.org_id)
    assert everything.client.scopes == ALL_SCOPES


# -- using ----------------------------------------------------------------------------------------
async def test_a_live_token_and_api_key_become_the_principal(world: World, client: IssuedClient, api_key: str) -> None:
    token = await issue(world, client)
    principal = await world.parley.auth.authenticate("acme", f"bearer {token}", api_key, STREAMING)
    assert (principal.org_id, principal.client_id, principal.scopes) == (
        "acme",
        client.client.client_id,
        frozenset({MESSAGING, STREAMING}),
    )


async def test_a_token_expires_an_hour_after_it_was_issued(world: World, client: IssuedClient, api_key: str) -> None:
    token = await issue(world, client)
    world.clock.advance(TOKEN_LIFETIME_SECONDS - 0.5)
    assert await authenticate(world, token, api_key) == client.client.client_id
    world.clock.advance(0.5)
    assert await auth_refusal(world, f"Bearer {token}", api_key) == ("authorization", "invalidToken")


async def test_a_revoked_clients_tokens_are_refused_once_the_cache_expires(
    world: World, client: IssuedClient, api_key: str
) -> None:
    token = await issue(world, client)
    await authenticate(world, token, api_key)
    await world.parley.accounts.revoke_client(client.client.client_id)
    world.clock.advance(world.parley.settings.token_cache_seconds + 1)
    assert await auth_refusal(world, f"Bearer {token}", api_key) == ("authorization", "invalidToken")


async def test_a_token_lacking_the_endpoints_scope_is_insufficient(
    world: World, client: IssuedClient, api_key: str
) -> None:
    token = await issue(world, client, scope=STREAMING)
    assert await auth_refusal(world, f"Bearer {token}", api_key, MESSAGING) == ("authorization", "insufficientScope")


async def test_a_token_issued_for_another_organization_is_invalid_here(world: World, api_key: str) -> None:
    await world.parley.accounts.create_organization("globex")
    outsider = await world.parley.accounts.create_client("globex")
    token = await issue(world, outsider, realm="globex")
    assert await auth_refusal(world, f"Bearer {token}", api_key) == ("authorization", "invalidToken")


@pytest.mark.parametrize(
    ("authorization", "answer"),
    [
        (None, ("authorization", "missingToken")),
        ("", ("authorization", "missingToken")),
        ("Basic abc", ("authorization", "invalidToken")),
        ("Bearer ", ("authorization", "invalidToken")),
        ("Bearer pat_unknown", ("authorization", "invalidToken")),
    ],
)
async def test_a_missing_or_unknown_token_is_refused(
    world: World, api_key: str, authorization: str | None, answer: tuple[str, str]
) -> None:
    assert await auth_refusal(world, authorization, api_key) == answer


async def test_the_api_key_must_be_a_live_key_of_the_organization(world: World, client: IssuedClient) -> None:
    token = await issue(world, client)
    await world.parley.accounts.create_organization("globex")
    foreign = await world.parley.accounts.create_api_key("globex")
    bearer = f"Bearer {token}"
    assert await auth_refusal(world, bearer, None) == ("x-api-key", "missingApiKey")
    assert await auth_refusal(world, bearer, "pak_unknown") == ("x-api-key", "invalidApiKey")
    assert await auth_refusal(world, bearer, foreign.value) == ("x-api-key", "invalidApiKey")


async def test_a_revoked_api_key_is_refused_once_the_cache_expires(world: World, client: IssuedClient) -> None:
    token = await issue(world, client)
    key = await world.parley.accounts.create_api_key(world.org_id)
    await authenticate(world, token, key.value)
    await world.parley.accounts.revoke_api_key(key.key.key_id)
    world.clock.advance(world.parley.settings.token_cache_seconds + 1)
    assert await auth_refusal(world, f"Bearer {token}", key.value) == ("x-api-key", "invalidApiKey")
