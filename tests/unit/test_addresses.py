"""Which address a request counts against: X-Forwarded-For only through trusted proxies."""

import pytest

from server.api.addresses import client_address, parse_networks

PROXIES = parse_networks("10.0.0.1, 172.16.0.0/12")


def test_the_peer_counts_when_it_is_not_a_trusted_proxy() -> None:
    assert client_address("198.51.100.7", "203.0.113.9", PROXIES) == "198.51.100.7"
    assert client_address("198.51.100.7", None, PROXIES) == "198.51.100.7"
    assert client_address("10.0.0.1", "203.0.113.9", ()) == "10.0.0.1", "no proxies configured"


def test_behind_trusted_proxies_the_nearest_untrusted_hop_counts() -> None:
    assert client_address("10.0.0.1", "203.0.113.9", PROXIES) == "203.0.113.9"
    chain = "1.2.3.4, 203.0.113.9, 172.16.5.5"
    assert client_address("10.0.0.1", chain, PROXIES) == "203.0.113.9", "1.2.3.4 is spoofable"
    assert client_address("10.0.0.1", "172.16.0.2, 10.0.0.1", PROXIES) == "172.16.0.2"
    assert client_address("10.0.0.1", " , ", PROXIES) == "10.0.0.1"


def test_malformed_proxy_lists_are_refused() -> None:
    assert parse_networks("") == ()
    with pytest.raises(ValueError):
        parse_networks("10.0.0.1, not-an-address")
