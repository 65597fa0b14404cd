"""Addresses and host names, the cheap part of the guard's decisions: whether a host is
loopback, the address a host spells, a port as a number.

Apart from :mod:`apirec.guard.hosts` (the rules of ``allow_hosts`` and the recorded hosts)
because every pytest run's guard needs these and nothing more until a recording guards.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LOOPBACK_NAMES = frozenset({"localhost"})


def address_of(host: str) -> IPAddress | None:
    """The IP address ``host`` spells (IPv4-mapped IPv6 as its IPv4), or None for a name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def host_name(host: str) -> str:
    """A host name as names are compared: without case and trailing dot."""
    return host.rstrip(".").lower()


def is_local(host: str) -> bool:
    """Loopback (127.0.0.0/8, ::1, ``localhost``) or "this host" (0.0.0.0, ::, "")."""
    if host == "":
        return True  # Python's spelling of INADDR_ANY
    address = address_of(host)
    if address is None:
        return host_name(host) in LOOPBACK_NAMES
    return address.is_loopback or address.is_unspecified


def port_number(port: object) -> int | None:
    """A port as an int (a str of digits too); None for anything else."""
    if isinstance(port, int) and not isinstance(port, bool):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    return None
