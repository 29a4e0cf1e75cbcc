"""GET /metrics: the Prometheus text exposition of what ``parley.service.counters`` counted (contract 13).

The hot path counts in plain integers; here, at scrape time, they become the families of the
official client library, beside the gauges of shared state read from the store (the
deployment's, whichever instance is asked).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from parley.api.http import Request, Response, Route
from parley.clock import Clock
from parley.domain.errors import Unauthenticated
from parley.domain.interactions import InteractionState
from parley.service.counters import Counters, Histogram
from parley.service.ports import OpenInteractions
from parley.service.webhook_delivery import DELIVERY_LAG

K = TypeVar("K", bound=tuple[str, ...])

TRANSPORTS = ("longpoll", "sse", "websocket")
OFFER_OUTCOMES = ("accepted", "rejected", "timeout")
OPEN_STATES = (InteractionState.QUEUED.value, InteractionState.OFFERED.value, InteractionState.ACTIVE.value)


@dataclass(frozen=True, slots=True)
class MetricsEndpoint:
    token: str  # PARLEY_METRICS_TOKEN; empty: open
    open_interactions: Callable[[], Awaitable[OpenInteractions]]  # the store's, read at scrape time
    clock: Clock


def routes(counts: Counters, endpoint: MetricsEndpoint) -> list[Route]:
    collector = ParleyCollector(counts, endpoint.clock)
    registry = CollectorRegistry()
    registry.register(collector)
    ProcessCollector(registry=registry)
    token = endpoint.token
    expected = f"Bearer {token}".encode()

    async def metrics(request: Request) -> Response:
        if token and not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected):
            raise Unauthenticated.of(
                "authorization", "invalidToken", "send Authorization: Bearer <PARLEY_METRICS_TOKEN>"
            )
        collector.open = await endpoint.open_interactions()
        return Response(200, generate_latest(registry), [("content-type", CONTENT_TYPE_LATEST)])

    return [Route("GET", "/metrics", metrics, "Prometheus metrics", "Meta", hidden=True)]


class ParleyCollector(Collector):
    def __init__(self, counts: Counters, clock: Clock) -> None:
        self.counts = counts
        self.clock = clock
        self.open = OpenInteractions({}, None)  # refreshed before each scrape

    def collect(self) -> Iterator[Metric]:
        c = self.counts
        requests = CounterMetricFamily(
            "parley_http_requests", "HTTP requests answered", labels=["route", "method", "status"]
        )
        limited = 0
        for (route, method, status), n in sorted(c.requests.items()):
            requests.add_metric([route, method, str(status)], n)
            limited += n if status == 429 else 0
        yield requests
        durations = HistogramMetricFamily(
            "parley_http_request_duration_seconds",
            "Time to answer a request (a long poll's wait included)",
            labels=["route"],
        )
        for route, histogram in sorted(c.request_seconds.items()):
            durations.add_metric([route], _buckets(histogram), histogram.sum)
        yield durations
        yield _counter("parley_messages", "Messages stored", ["channel", "entity_type"], c.messages)
        yield _counter(
            "parley_events_delivered", "Events handed to streaming clients", ["transport"], _keyed(c.events_delivered)
        )
        streams = GaugeMetricFamily(
            "parley_streaming_sessions", "Streams open on this instance now", labels=["transport"]
        )
        for transport in TRANSPORTS:
            streams.add_metric([transport], c.open_streams.get(transport, 0))
        yield streams
        interactions = GaugeMetricFamily("parley_interactions", "Open interactions of the deployment", labels=["state"])
        for state in OPEN_STATES:
            interactions.add_metric([state], self.open.by_state.get(state, 0))
        yield interactions
        yield GaugeMetricFamily(
            "parley_queue_waiting", "Interactions waiting for an agent", value=self.open.by_state.get("queued", 0)
        )
        oldest = self.open.oldest_queued_at
        wait = 0.0 if oldest is None else max(0.0, self.clock.now() - oldest)
        yield GaugeMetricFamily("parley_queue_oldest_wait_seconds", "How long the oldest queued one waits", value=wait)
        offers = {(o,): c.offers.get(o, 0) for o in OFFER_OUTCOMES}
        yield _counter("parley_offers", "Offers answered, by outcome", ["outcome"], offers)
        yield _counter("parley_sms", "SMS by direction and status", ["direction", "status"], c.sms)
        yield _counter(
            "parley_webhook_deliveries", "Webhook deliveries by outcome", ["outcome"], _keyed(c.webhook_deliveries)
        )
        lag = HistogramMetricFamily(
            "parley_webhook_delivery_lag_seconds", "From an event being stored to its webhook's 2xx"
        )
        lag.add_metric([], _buckets(DELIVERY_LAG), DELIVERY_LAG.sum)
        yield lag
        commits = HistogramMetricFamily("parley_store_commit_seconds", "Time of one group commit of the store")
        commits.add_metric([], _buckets(c.commit_seconds), c.commit_seconds.sum)
        yield commits
        yield CounterMetricFamily("parley_rate_limited", "Requests refused by a rate limit (429)", value=limited)


def _keyed(counts: dict[str, int]) -> dict[tuple[str, ...], int]:
    return {(key,): n for key, n in counts.items()}


def _counter(name: str, doc: str, labels: list[str], counts: Mapping[K, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, n in sorted(counts.items()):
        family.add_metric(list(key), n)
    return family


def _buckets(histogram: Histogram) -> list[tuple[str, float]]:
    """Cumulative, as the exposition wants them, ending with +Inf."""
    out: list[tuple[str, float]] = []
    total = 0
    for bound, n in zip((*map(repr, histogram.bounds), "+Inf"), histogram.buckets, strict=True):
        total += n
        out.append((bound, total))
    return out
