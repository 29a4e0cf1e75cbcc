"""Routing by path shape, and the memory of paths already matched."""

from __future__ import annotations

from parley.api.http import Request, Response, Route, Router


async def handler(request: Request) -> Response:
    return Response(204)


def router(*paths: str) -> Router:
    r = Router()
    for path in paths:
        r.add(Route("GET", path, handler, "test", "Test"))
    return r


def test_a_repeated_path_gets_its_parameters_each_time() -> None:
    r = router("/orgs/{orgId}/users/{userId}/sendText")
    for _ in range(3):
        match = r.match("GET", "/orgs/acme/users/u1/sendText")
        assert match is not None
        assert match.params == {"orgId": "acme", "userId": "u1"}


def test_a_handler_changing_its_parameters_does_not_change_the_next_match() -> None:
    r = router("/orgs/{orgId}/items")
    first = r.match("GET", "/orgs/acme/items")
    assert first is not None
    first.params["orgId"] = "changed"
    second = r.match("GET", "/orgs/acme/items")
    assert second is not None
    assert second.params == {"orgId": "acme"}


def test_a_route_added_after_a_match_is_found() -> None:
    r = router("/orgs/{orgId}/items/{itemId}")
    before = r.match("GET", "/orgs/acme/items/42")
    assert before is not None
    assert before.route is not None
    r.add(Route("POST", "/orgs/{orgId}/items/{itemId}", handler, "test", "Test"))
    after = r.match("POST", "/orgs/acme/items/42")
    assert after is not None
    assert after.route is not None
    assert after.route.method == "POST"
    assert after.allowed == ["GET", "POST"]


def test_many_distinct_paths_still_match_after_the_memory_fills() -> None:
    r = router("/items/{itemId}")
    for n in range(10_000):
        match = r.match("GET", f"/items/{n}")
        assert match is not None
        assert match.params == {"itemId": str(n)}


def test_an_unknown_path_matches_nothing_every_time() -> None:
    r = router("/items/{itemId}")
    assert r.match("GET", "/elsewhere/1") is None
    assert r.match("GET", "/elsewhere/1") is None
