"""Web chat tokens: an HS256 JWT for one organization, valid for an hour (contract 7)."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from parley.api.errors import status_of
from parley.domain.errors import NotFound, RuleViolation, Unauthenticated
from parley.domain.interactions import InteractionState, MessageKind
from parley.service.webchat import SIGNING_KEY_NAME, WEB_TOKEN_LIFETIME
from tests.unit.world import World


def refused(world: World, authorization: str | None, org_id: str = "acme") -> str:
    with pytest.raises(Unauthenticated) as caught:
        world.parley.webchat.verify(org_id, authorization)
    assert status_of(caught.value) == 401
    assert caught.value.problems[0].scope == "authorization"
    return caught.value.reason


async def signed(world: World, claims: dict[str, object]) -> str:
    key = await world.parley.store.get_or_create_secret(SIGNING_KEY_NAME, "unused")
    return jwt.encode(claims, key, algorithm="HS256")


async def test_a_web_token_stands_for_a_new_contact_for_an_hour(world: World) -> None:
    token = await world.parley.webchat.issue_token("acme")
    assert token.expires_at == int(world.clock.now()) + WEB_TOKEN_LIFETIME
    assert world.parley.webchat.verify("acme", f"Bearer {token.token}") == token.contact_id
    assert token.contact_id != (await world.parley.webchat.issue_token("acme")).contact_id


async def test_a_web_token_expires_after_an_hour(world: World) -> None:
    token = await world.parley.webchat.issue_token("acme")
    world.clock.advance(WEB_TOKEN_LIFETIME - 1)
    assert world.parley.webchat.verify("acme", f"Bearer {token.token}") == token.contact_id
    world.clock.advance(1)
    assert refused(world, f"Bearer {token.token}") == "invalidToken"


async def test_a_web_token_is_refused_by_another_organization(world: World) -> None:
    await world.parley.accounts.create_organization("globex")
    token = await world.parley.webchat.issue_token("acme")
    assert refused(world, f"Bearer {token.token}", org_id="globex") == "invalidToken"


async def test_a_tampered_web_token_is_refused(world: World) -> None:
    token = (await world.parley.webchat.issue_token("acme")).token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "ctc_someone_else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(world, f"Bearer {header}.{forged}.{signature}") == "invalidToken"
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert refused(world, f"Bearer {header}.{payload}.{flipped}") == "invalidToken"


async def test_a_web_token_signed_with_another_key_is_refused(world: World) -> None:
    now = int(world.clock.now())
    claims = {"sub": "ctc_1", "org": "acme", "typ": "webchat", "iat": now, "exp": now + 60}
    assert refused(world, "Bearer " + jwt.encode(claims, "k" * 64, algorithm="HS256")) == "invalidToken"
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert refused(world, f"Bearer {unsigned}") == "invalidToken"


async def test_a_properly_signed_token_of_another_kind_is_refused(world: World) -> None:
    now = int(world.clock.now())
    assert refused(world, "Bearer " + await signed(world, {"sub": "c", "org": "acme", "exp": now + 60})) == (
        "invalidToken"
    )
    assert refused(world, "Bearer " + await signed(world, {"sub": "c", "org": "acme", "typ": "webchat"})) == (
        "invalidToken"
    )


@pytest.mark.parametrize(("authorization", "reason"), [(None, "missingToken"), ("", "missingToken")])
async def test_a_missing_web_token_is_missing(world: World, authorization: str | None, reason: str) -> None:
    assert refused(world, authorization) == reason


@pytest.mark.parametrize("authorization", ["Basic abc", "Bearer ", "Bearer not.a.jwt"])
async def test_a_malformed_authorization_is_an_invalid_token(world: World, authorization: str) -> None:
    assert refused(world, authorization) == "invalidToken"


async def test_no_web_token_for_an_unknown_organization(world: World) -> None:
    with pytest.raises(NotFound):
        await world.parley.webchat.issue_token("nowhere")


async def test_a_new_chat_waits_in_the_queue_and_its_contact_cannot_post_yet(world: World) -> None:
    contact = await world.chat("Carol")
    interaction = await world.interaction(contact.interaction.interaction_id)
    assert (interaction.state, interaction.contact_id, interaction.contact_name) == (
        InteractionState.QUEUED,
        contact.contact_id,
        "Carol",
    )
    with pytest.raises(RuleViolation) as caught:
        await world.parley.messaging.contact_post(
            "acme", contact.contact_id, interaction.interaction_id, MessageKind.TEXT, "hello?", None
        )
    assert caught.value.reason == "notActive"


async def test_another_customers_interaction_looks_missing(world: World) -> None:
    carol = await world.chat("Carol")
    dave = await world.chat("Dave")
    with pytest.raises(NotFound):
        await world.parley.messaging.contact_typing("acme", dave.contact_id, carol.interaction.interaction_id, 10)
