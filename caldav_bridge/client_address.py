"""Which client a request comes from, for throttling and rate limits."""

from __future__ import annotations

import ipaddress


def client_key(address: str | None) -> str:
    """The counted unit for a client address: IPv4 as is, IPv6 by its /64 network.

    One IPv6 host usually owns a whole /64, so counting single IPv6 addresses would let it
    rotate addresses for free. IPv4-mapped IPv6 addresses count as their IPv4 address.
    """
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)
