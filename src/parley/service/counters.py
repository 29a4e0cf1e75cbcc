"""What /metrics reports, counted in plain integers where it happens (contract 13).

The hot path only adds to dictionaries and lists of this one object per process; the families of
the Prometheus client are built from it at scrape time (``parley.api.metrics``). Its own counter
objects take a lock and a label lookup on every increment, which the hot path does not pay for.
``enabled = False`` (``PARLEY_METRICS=off``) makes every count return at once, so the cost of
counting can be measured (``bench/bench_send_text.py --metrics off``).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

# Upper bounds in seconds (Prometheus ``le``); a long poll's wait lands in the last ones. Not
# Final: compiled, a Final tuple is only set once the whole module has run, after COUNTS below
# was built from it (NameError: value for final name ... was not set).
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
COMMIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
UNMATCHED: Final = "unmatched"  # the route label of a request no route answered


class Histogram:
    """Observations in fixed buckets: ``buckets[i]`` counts values ≤ ``bounds[i]`` and above the
    bound before it (not cumulative); the last one counts values above every bound."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.buckets = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.buckets[bisect_left(self.bounds, value)] += 1
        self.sum += value


class Counters:
    def __init__(self) -> None:
        self.enabled = True
        self.requests: dict[tuple[str, str, int], int] = {}  # (route, method, status)
        self.request_seconds: dict[str, Histogram] = {}  # by route
        self.messages: dict[tuple[str, str], int] = {}  # (channel, entity type)
        self.events_delivered: dict[str, int] = {}  # by transport
        self.open_streams: dict[str, int] = {}  # by transport, now
        self.offers: dict[str, int] = {}  # by outcome
        self.sms: dict[tuple[str, str], int] = {}  # (direction, status)
        self.webhook_deliveries: dict[str, int] = {}  # by outcome
        self.commit_seconds = Histogram(COMMIT_BUCKETS)  # written by the store's writer thread only

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        if not self.enabled:
            return
        key = (route, method, status)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        histogram = self.request_seconds.get(route)
        if histogram is None:
            histogram = self.request_seconds[route] = Histogram(REQUEST_BUCKETS)
        histogram.observe(seconds)

    def message(self, channel: str, entity_type: str) -> None:
        if self.enabled:
            key = (channel, entity_type)
            self.messages[key] = self.messages.get(key, 0) + 1

    def delivered(self, transport: str, events: int) -> None:
        if self.enabled and events:
            self.events_delivered[transport] = self.events_delivered.get(transport, 0) + events

    def stream_opened(self, transport: str) -> None:
        if self.enabled:
            self.open_streams[transport] = self.open_streams.get(transport, 0) + 1

    def stream_closed(self, transport: str) -> None:
        if self.enabled:
            self.open_streams[transport] -= 1

    def offer(self, outcome: str) -> None:
        if self.enabled:
            self.offers[outcome] = self.offers.get(outcome, 0) + 1

    def sms_counted(self, direction: str, status: str) -> None:
        if self.enabled:
            key = (direction, status)
            self.sms[key] = self.sms.get(key, 0) + 1

    def webhook_delivery(self, outcome: str) -> None:
        if self.enabled:
            self.webhook_deliveries[outcome] = self.webhook_deliveries.get(outcome, 0) + 1

    def commit(self, seconds: float) -> None:
        if self.enabled:
            self.commit_seconds.observe(seconds)


# One per process, as the Prometheus client's own registry is: a process serves one Parley, and
# counting must reach the store's writer thread without being handed down every constructor.
COUNTS: Final = Counters()
