"""Outbound webhooks (contract 14): subscriptions, their deliveries and the rules of both. Pure.

A delivery is ``pending`` from the moment it is stored (with the event it carries) until a
receiver answers 2xx (``delivered``) or the retry schedule is spent (``failed``: dead-lettered).
While pending, ``next_attempt_at`` is when it is next tried, or None while it waits in line
behind the pending delivery before it with the same order key (an interaction): storage lets
the next one in line go when the one before is delivered or dead-lettered. An attempt in flight
holds its delivery until the end of its lease, so an instance that dies mid-attempt leaves it to
another.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from parley.domain import events
from parley.domain.errors import InvalidRequest

# The event types a webhook can carry: those written to storage with the message they describe.
DELIVERED_EVENT_TYPES: Final = (events.TEXT, events.URL)
ALL_EVENTS: Final = "*"
SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 24
ROTATION_OVERLAP_SECONDS: Final = 24 * 3600.0  # the previous secret still signs this long
RETRY_DELAYS_SECONDS: Final = (5.0, 30.0, 120.0, 600.0, 3600.0, 6 * 3600.0, 12 * 3600.0)
URL_LIMIT: Final = 2048


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


DELIVERY_STATUS_OF: Final = {s.value: s for s in DeliveryStatus}


@dataclass(frozen=True, slots=True)
class Webhook:
    webhook_id: str
    org_id: str
    url: str
    event_types: tuple[str, ...]  # ("*",) for every type
    description: str
    secret: str
    created_at: float
    previous_secret: str = ""  # the secret before the last rotation, while it still signs
    previous_until: float = 0.0

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types

    def signing_secrets(self, now: float) -> tuple[str, ...]:
        """The secrets that sign a delivery made at ``now``: both during a rotation's overlap."""
        if self.previous_secret and now < self.previous_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: str
    webhook_id: str
    org_id: str
    event_id: str  # the ``webhook-id`` header: the same on every attempt
    event_type: str
    order_key: str  # deliveries with one key (an interaction) go out one after the other
    body: bytes
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    last_status_code: int | None = None
    last_error: str = ""


def new_secret(random_bytes: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def retry_delay(attempts: int) -> float | None:
    """Seconds until the next attempt after ``attempts`` failed ones; None: dead-letter it."""
    if attempts < 1 or attempts > len(RETRY_DELAYS_SECONDS):
        return None
    return RETRY_DELAYS_SECONDS[attempts - 1]


def check_event_types(event_types: list[str]) -> tuple[str, ...]:
    unknown = [t for t in event_types if t != ALL_EVENTS and t not in DELIVERED_EVENT_TYPES]
    if unknown:
        known = ", ".join((ALL_EVENTS, *DELIVERED_EVENT_TYPES))
        raise InvalidRequest.of(
            "eventTypes", "unknownEventType", f"unknown event type {unknown[0]!r}; webhooks carry {known}"
        )
    if not event_types:
        raise InvalidRequest.of("eventTypes", "invalidValue", "name at least one event type, or '*'")
    return (ALL_EVENTS,) if ALL_EVENTS in event_types else tuple(dict.fromkeys(event_types))


def check_target_url(url: str, allow_private: bool) -> str:
    """A webhook's URL as given, if it may be one: https (http only when private targets are
    allowed), a host, no credentials; a literal address must be public unless allowed."""
    invalid = InvalidRequest.of("url", "invalidUrl", "the URL must be an absolute https:// URL with a host")
    if len(url) > URL_LIMIT:
        raise invalid
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise invalid from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in schemes or not parts.hostname or parts.username is not None:
        raise invalid
    if port == 0:
        raise invalid
    literal = literal_address(parts.hostname)
    # A name is checked where it counts, on what it resolves to at each delivery.
    if literal is not None and not is_public(literal) and not allow_private:
        raise InvalidRequest.of(
            "url", "privateAddress", "private, loopback and link-local targets are not allowed on this server"
        )
    return url


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether a webhook may reach ``address`` without ``PARLEY_WEBHOOK_ALLOW_PRIVATE``."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
