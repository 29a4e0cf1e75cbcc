"""Users: unique email per organization, search by email or name, paging."""

from __future__ import annotations

import pytest

from parley.domain.accounts import User
from parley.domain.errors import AlreadyExists, InvalidRequest
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s


async def test_a_user_reads_back_only_in_its_organization(store: Store) -> None:
    user = s.user(roles=("agent", "supervisor"), preferred_name="Annie")
    await store.add_user(user)

    assert await store.get_user(s.ORG, "usr_1") == user
    assert await store.get_user("other-org", "usr_1") is None
    assert await store.get_user(s.ORG, "usr_2") is None


async def test_an_email_is_unique_in_an_organization_ignoring_case(store: Store) -> None:
    await store.add_user(s.user(email="Ann@Example.com"))
    await store.add_user(s.user("usr_2", email="ann@example.com", org_id="beta"))

    with pytest.raises(AlreadyExists) as raised:
        await store.add_user(s.user("usr_3", email="ANN@example.COM"))

    assert (raised.value.problems[0].scope, raised.value.reason) == ("email", "duplicateEmail")


async def test_a_user_id_is_unique(store: Store) -> None:
    await store.add_user(s.user())

    with pytest.raises(AlreadyExists) as raised:
        await store.add_user(s.user(email="other@example.com"))

    assert raised.value.reason == "duplicateUser"


async def add_people(store: Store) -> None:
    people = [
        ("usr_a", "Ann", "Lee", "", 3.0),
        ("usr_b", "Bob", "Stone", "Bobby", 1.0),
        ("usr_c", "Cleo", "Annand", "", 2.0),
        ("usr_d", "Dan", "Wu", "Mr 100%_sure", 2.0),
        ("usr_e", "Eve", "Ng", "", 2.0),
    ]
    for user_id, first, last, preferred, at in people:
        email = f"{first.lower()}@example.com"
        names = {"first_name": first, "last_name": last, "preferred_name": preferred}
        await store.add_user(s.user(user_id, email, created_at=at, **names))
    await store.add_user(s.user("usr_x", "ann@example.com", org_id="beta"))


def ids(users: list[User]) -> list[str]:
    return [u.user_id for u in users]


async def test_users_are_listed_by_creation_time_then_id(store: Store) -> None:
    await add_people(store)

    page = await store.find_users(s.ORG)

    assert ids(page.users) == ["usr_b", "usr_c", "usr_d", "usr_e", "usr_a"]
    assert (page.total, page.continuation_token) == (5, None)


async def test_find_by_email_ignores_case(store: Store) -> None:
    await add_people(store)

    page = await store.find_users(s.ORG, email="ANN@example.com")

    assert (ids(page.users), page.total) == (["usr_a"], 1)
    assert (await store.find_users(s.ORG, email="nobody@example.com")).total == 0


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("ann", ["usr_c", "usr_a"]),  # "Cleo Annand" and "Ann Lee"
        ("BOBBY", ["usr_b"]),  # the preferred name
        ("b st", ["usr_b"]),  # across first and last name
        ("100%_s", ["usr_d"]),  # no wildcards
        ("%", ["usr_d"]),
        ("_", ["usr_d"]),
        ("zzz", []),
    ],
)
async def test_find_by_name_matches_part_of_either_name(store: Store, needle: str, expected: list[str]) -> None:
    await add_people(store)

    page = await store.find_users(s.ORG, name_contains=needle)

    assert (ids(page.users), page.total) == (expected, len(expected))


async def test_email_and_name_filters_combine(store: Store) -> None:
    await add_people(store)

    assert ids((await store.find_users(s.ORG, email="ann@example.com", name_contains="lee")).users) == ["usr_a"]
    assert (await store.find_users(s.ORG, email="ann@example.com", name_contains="bob")).total == 0


async def test_pages_follow_each_other_with_the_total_on_every_page(store: Store) -> None:
    await add_people(store)

    first = await store.find_users(s.ORG, limit=2)
    assert first.continuation_token is not None
    second = await store.find_users(s.ORG, limit=2, continuation_token=first.continuation_token)
    assert second.continuation_token is not None
    third = await store.find_users(s.ORG, limit=2, continuation_token=second.continuation_token)

    assert [ids(p.users) for p in (first, second, third)] == [["usr_b", "usr_c"], ["usr_d", "usr_e"], ["usr_a"]]
    assert [p.total for p in (first, second, third)] == [5, 5, 5]
    assert third.continuation_token is None


async def test_a_page_that_ends_exactly_at_the_last_user_has_no_token(store: Store) -> None:
    await add_people(store)

    page = await store.find_users(s.ORG, limit=5)

    assert (len(page.users), page.continuation_token) == (5, None)


@pytest.mark.parametrize("token", ["not base64!", "bm90IGpzb24=", "WzEsMiwzXQ=="])
async def test_a_forged_continuation_token_is_refused(store: Store, token: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        await store.find_users(s.ORG, continuation_token=token)

    assert raised.value.reason == "invalidContinuationToken"
