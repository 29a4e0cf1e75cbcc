"""Which streaming session a request may name, and what a dropped one says (contract 1.3 and 4)."""

from __future__ import annotations

import pytest

from parley.domain.errors import InvalidRequest
from parley.service.ports import StreamSession
from tests.unit.world import World


async def refusal(world: World, session_id: str | None, owner: str | None = None, org_id: str = "acme") -> str:
    with pytest.raises(InvalidRequest) as caught:
        await world.parley.streaming.require(org_id, session_id, owner)
    problem = caught.value.problems[0]
    assert problem.scope == "via-client-sessionid"
    return f"{problem.reason}: {problem.message}"


@pytest.fixture
async def desk(world: World) -> StreamSession:
    return await world.session(await world.user("Ada"), inactivity_delay=10)


async def test_the_owners_live_session_is_accepted(world: World, desk: StreamSession) -> None:
    assert await world.parley.streaming.require("acme", desk.session_id, desk.owner) == desk
    assert desk.user_id is not None
    assert desk.owner == f"user:{desk.user_id}"


@pytest.mark.parametrize("session_id", [None, ""])
async def test_no_session_id_is_a_missing_session(world: World, session_id: str | None) -> None:
    assert (await refusal(world, session_id)).startswith("missingSession")


async def test_someone_elses_or_another_organizations_session_is_invalid(world: World, desk: StreamSession) -> None:
    await world.parley.accounts.create_organization("globex")
    assert (await refusal(world, desk.session_id, owner="user:bob")).startswith("invalidSession")
    assert (await refusal(world, desk.session_id, org_id="globex")).startswith("invalidSession")
    assert (await refusal(world, "ses_unknown")).startswith("invalidSession")


async def test_a_deleted_session_says_it_was_deleted(world: World, desk: StreamSession) -> None:
    await world.parley.streaming.close(desk)
    assert "session deleted" in await refusal(world, desk.session_id)


async def test_a_session_without_a_poll_for_its_inactivity_delay_expires(world: World, desk: StreamSession) -> None:
    await world.pass_time(10)
    await world.parley.streaming.require("acme", desk.session_id)
    await world.events(desk)
    await world.pass_time(10)
    await world.parley.streaming.require("acme", desk.session_id)
    await world.pass_time(1)
    assert "expired after 10 s" in await refusal(world, desk.session_id)


async def test_a_contact_session_belongs_to_the_contact(world: World) -> None:
    contact = await world.chat()
    assert contact.session.user_id is None
    assert contact.session.inactivity_delay == 60
    await world.parley.streaming.require("acme", contact.session.session_id, f"contact:{contact.contact_id}")
