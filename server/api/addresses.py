"""The caller's address for per-address limits, behind trusted reverse proxies too.

``X-Forwarded-For`` is honoured only when the TCP peer is a proxy listed in
``OPENCHAT_TRUSTED_PROXIES`` (addresses or networks): anyone else could write any address into
it. The client is then the right-most entry that is not itself a trusted proxy.
"""

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks (``10.0.0.1, 172.16.0.0/12``); ValueError on a
    malformed entry."""
    return tuple(ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip())


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """The address to count ``peer``'s request against: ``peer`` itself, or when ``peer`` is a
    trusted proxy, the nearest untrusted address of ``X-Forwarded-For`` (right to left)."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer
