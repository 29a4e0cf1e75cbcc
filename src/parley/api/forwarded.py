"""Which client a request came from when a trusted reverse proxy forwards it.

The proxies trusted are uvicorn's ``--forwarded-allow-ips`` (``FORWARDED_ALLOW_IPS``; by default
127.0.0.1 and ::1): addresses, networks, or ``*``. From a trusted peer, the client is the last
address in ``X-Forwarded-For`` that is not itself a trusted proxy, as uvicorn reads it.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, allowed: list[str] | str) -> None:
        items = allowed.split(",") if isinstance(allowed, str) else allowed
        self.everyone = False
        self.networks: list[Network] = []
        self.names: set[str] = set()
        for raw in items:
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                self.everyone = True
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.names.add(item)  # a literal, such as a Unix socket's peer name

    def trusts(self, host: str) -> bool:
        if self.everyone or host in self.names:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client_of(self, peer: str, forwarded_for: str) -> str:
        """The client's address, given the peer's and the ``X-Forwarded-For`` values it sent."""
        if not self.trusts(peer):
            return peer
        hops = [_host_of(hop) for hop in forwarded_for.split(",") if hop.strip()]
        if not hops:
            return peer
        if self.everyone:
            return hops[0]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0]


def _host_of(hop: str) -> str:
    """``203.0.113.7``, ``203.0.113.7:4711`` or ``[2001:db8::1]:4711`` → the address alone."""
    hop = hop.strip()
    if hop.startswith("["):
        return hop[1 : hop.find("]")] if "]" in hop else hop
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop


_parsed: dict[str, TrustedProxies] = {}


def trusted_proxies(allowed: list[str] | str) -> TrustedProxies:
    """``TrustedProxies(allowed)``, parsed once per setting rather than for every connection."""
    key = allowed if isinstance(allowed, str) else ",".join(allowed)
    proxies = _parsed.get(key)
    if proxies is None:
        proxies = _parsed[key] = TrustedProxies(allowed)
    return proxies
