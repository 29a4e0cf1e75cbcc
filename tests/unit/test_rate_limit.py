"""Token buckets per API key, and the RateLimit headers they yield (contract 3 and 9)."""

from __future__ import annotations

from parley.api.gate import ratelimit_headers
from parley.service.ratelimit import TokenBuckets
from tests.clock import FakeClock
from tests.unit.world import World


def test_a_full_bucket_allows_its_burst_then_refuses(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=100, burst=200)
    decisions = [buckets.take("key_1") for _ in range(201)]
    assert all(d.allowed for d in decisions[:200])
    refused = decisions[200]
    assert (refused.allowed, refused.remaining, refused.retry_after) == (False, 0, 1)


def test_keys_have_their_own_buckets(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=1, burst=1)
    assert buckets.take("key_1").allowed
    assert not buckets.take("key_1").allowed
    assert buckets.take("key_2").allowed


def test_the_bucket_refills_at_its_rate_up_to_its_burst(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=10, burst=20)
    for _ in range(20):
        buckets.take("key_1")
    clock.advance(0.5)
    assert [buckets.take("key_1").allowed for _ in range(6)] == [True] * 5 + [False]
    clock.advance(3600)
    assert buckets.take("key_1").remaining == 19


def test_retry_after_is_the_whole_seconds_until_one_request_fits(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=0.25, burst=1)
    buckets.take("key_1")
    assert buckets.take("key_1").retry_after == 4
    clock.advance(2.5)
    assert buckets.take("key_1").retry_after == 2
    clock.advance(1.5)
    assert buckets.take("key_1").allowed


def test_a_refused_request_takes_nothing_from_the_bucket(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=1, burst=1)
    buckets.take("key_1")
    for _ in range(5):
        assert not buckets.take("key_1").allowed
    clock.advance(1)
    assert buckets.take("key_1").allowed


def test_rate_zero_is_unlimited(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=0, burst=200)
    assert buckets.unlimited
    assert all(buckets.take("key_1").allowed for _ in range(10_000))


def test_the_default_policy_header_is_exactly_the_contracts(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=100, burst=200)
    headers = dict(ratelimit_headers("key", buckets, buckets.take("key_1")))
    assert headers == {"ratelimit-policy": '"key";q=200;w=2', "ratelimit": '"key";r=199;t=1'}


def test_the_ratelimit_header_counts_down_and_reads_zero_when_refused(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=100, burst=200)
    for _ in range(56):
        buckets.take("key_1")
    assert dict(ratelimit_headers("key", buckets, buckets.take("key_1")))["ratelimit"] == '"key";r=143;t=1'
    for _ in range(143):
        buckets.take("key_1")
    refused = buckets.take("key_1")
    assert dict(ratelimit_headers("key", buckets, refused))["ratelimit"] == '"key";r=0;t=2'


def test_the_reset_time_is_how_long_until_the_bucket_is_full(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=5, burst=100)
    assert buckets.window_seconds == 20
    for _ in range(49):
        buckets.take("key_1")
    decision = buckets.take("key_1")
    assert (decision.remaining, decision.reset_seconds) == (50, 10)


def test_the_typing_bucket_is_named_typing(clock: FakeClock) -> None:
    buckets = TokenBuckets(clock, rate=100, burst=200)
    [(_, policy), (_, remaining)] = ratelimit_headers("typing", buckets, buckets.take("key_1"))
    assert policy.startswith('"typing";')
    assert remaining.startswith('"typing";')


async def test_typing_counts_against_its_own_bucket_of_the_same_size(world: World) -> None:
    gate = world.parley.gate
    while gate.buckets.take("key_1").allowed:
        pass
    assert gate.typing_buckets.burst == gate.buckets.burst == 200
    assert gate.typing_buckets.take("key_1").allowed
