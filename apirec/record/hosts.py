"""Which hosts a replay may reach: loopback always, and the recording's ``allow_hosts``.

Pure decisions on names and addresses, nothing resolved here. ``allow_hosts`` entries are host
names (``api.example.com``, matched without case and trailing dot), ``*.example.com``
(any name under it), IP addresses and networks in CIDR form (``10.0.0.0/8``, ``fd00::/8``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

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


def _name(host: str) -> str:
    return host.rstrip(".").lower()


def is_local(host: str) -> bool:
    """Loopback (127.0.0.0/8, ::1, ``localhost``) or "this host" (0.0.0.0, ::, "")."""
    if host == "":
        return True  # Python's spelling of INADDR_ANY
    address = address_of(host)
    if address is None:
        return _name(host) in LOOPBACK_NAMES
    return address.is_loopback or address.is_unspecified


def _parse_entry(entry: object) -> str | IPNetwork:
    if not isinstance(entry, str):
        raise TypeError(f"allow_hosts: {entry!r} is not a host name or address (a str)")
    text = entry.strip()
    if not text:
        raise ValueError("allow_hosts: an empty entry; give a host name, IP address or network")
    if "/" in text or ":" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            pass
        else:
            return network
        if "://" in text or "/" in text:
            raise ValueError(
                f"allow_hosts: {entry!r} is neither a host nor a network; give the host only "
                "(api.example.com) or a network in CIDR form (10.0.0.0/8)"
            )
        raise ValueError(
            f"allow_hosts: {entry!r} looks like host:port; give the host only (every port "
            "of an allowed host is allowed)"
        )
    labels = text[2:] if text.startswith("*.") else text
    if any(c.isspace() or c in "*@[]" for c in labels):
        raise ValueError(f"allow_hosts: {entry!r} is not a host name or address")
    address = address_of(text)
    if address is not None:
        return ipaddress.ip_network(address)
    return _name(text)


@dataclass(frozen=True)
class HostRules:
    """The hosts one recording lets through besides loopback."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # from "*.example.com": ".example.com"
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[object]) -> HostRules:
        names: set[str] = set()
        suffixes: list[str] = []
        networks: list[IPNetwork] = []
        for entry in entries:
            parsed = _parse_entry(entry)
            if not isinstance(parsed, str):
                networks.append(parsed)
            elif parsed.startswith("*."):
                suffixes.append(parsed[1:])
            else:
                names.add(parsed)
        return cls(frozenset(names), tuple(suffixes), tuple(networks))

    def allows(self, host: str) -> bool:
        """Whether a connection to ``host`` (a name or an address) may go out."""
        if is_local(host):
            return True
        address = address_of(host)
        if address is None:
            name = _name(host)
            return name in self.names or name.endswith(self.suffixes)
        return any(address in network for network in self.networks)

    def __bool__(self) -> bool:
        return bool(self.names or self.suffixes or self.networks)
