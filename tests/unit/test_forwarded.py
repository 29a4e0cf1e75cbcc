"""Which address is the client's when requests arrive through reverse proxies."""

from __future__ import annotations

from parley.api.forwarded import TrustedProxies, trusted_proxies


def test_an_untrusted_peer_is_the_client_whatever_it_claims() -> None:
    proxies = TrustedProxies("127.0.0.1,::1")
    assert proxies.client_of("203.0.113.9", "198.51.100.7") == "203.0.113.9"


def test_the_client_is_the_last_hop_that_is_not_a_trusted_proxy() -> None:
    proxies = TrustedProxies("127.0.0.1, 10.0.0.0/8")
    assert proxies.client_of("127.0.0.1", "198.51.100.7, 203.0.113.5, 10.1.2.3") == "203.0.113.5"


def test_when_every_hop_is_trusted_the_first_one_is_the_client() -> None:
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert proxies.client_of("127.0.0.1", "10.0.0.1, 10.0.0.2") == "10.0.0.1"


def test_trusting_everyone_takes_the_first_hop() -> None:
    proxies = TrustedProxies("*")
    assert proxies.client_of("203.0.113.9", "198.51.100.7, 203.0.113.5") == "198.51.100.7"


def test_ports_and_ipv6_brackets_are_stripped_from_hops() -> None:
    proxies = TrustedProxies("::1")
    assert proxies.client_of("::1", "[2001:db8::7]:4711") == "2001:db8::7"
    assert proxies.client_of("::1", "198.51.100.7:4711") == "198.51.100.7"
    assert proxies.client_of("::1", "2001:db8::8") == "2001:db8::8"


def test_an_empty_header_leaves_the_peer() -> None:
    assert TrustedProxies("127.0.0.1").client_of("127.0.0.1", " , ") == "127.0.0.1"


def test_one_setting_is_parsed_once_for_every_connection() -> None:
    assert trusted_proxies("10.0.0.0/8, 127.0.0.1") is trusted_proxies("10.0.0.0/8, 127.0.0.1")
    assert trusted_proxies(["10.0.0.0/8", "127.0.0.1"]).trusts("10.1.2.3")
    assert trusted_proxies("10.0.0.0/8") is not trusted_proxies("127.0.0.1")
