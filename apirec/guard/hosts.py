"""Which hosts a replay may reach: loopback, except the hosts its recordings were recorded
against, and the recording's ``allow_hosts``.

Pure decisions on names and addresses, nothing resolved here. ``allow_hosts`` entries are host
names (``api.example.com``, matched without case and trailing dot), ``*.example.com``
(any name under it), IP addresses and networks in CIDR form (``10.0.0.0/8``, ``fd00::/8``).
A remote store's endpoint is let through on its own port only (``endpoints``).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from apirec.guard.addresses import (
    LOOPBACK_NAMES,
    IPNetwork,
    address_of,
    host_name,
    is_local,
    port_number,
)


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
    return host_name(text)


@dataclass(frozen=True)
class HostRules:
    """The hosts one recording lets through besides loopback."""

    names: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()  # from "*.example.com": ".example.com"
    networks: tuple[IPNetwork, ...] = ()
    # servers let through on one port only, as (host, port): a remote store's endpoint
    # (MinIO at localhost:9000) must not open every server of its host, on loopback the local
    # model server the recordings were recorded against among them
    endpoints: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def parse(
        cls, entries: Iterable[object], endpoints: Iterable[tuple[str, int]] = ()
    ) -> HostRules:
        """The rules of ``allow_hosts`` ``entries``, and of the ``(host, port)`` pairs let
        through on that port alone (``localhost`` standing for its addresses 127.0.0.1 and
        ::1; a name, for the addresses it resolves to)."""
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
        pairs: set[tuple[str, int]] = set()
        for host, port in endpoints:
            name = _spelled(host)
            spellings = _LOCALHOST_ADDRESSES if name in LOOPBACK_NAMES else ()
            pairs |= {(_spelled(h), port) for h in (name, *spellings)}
        return cls(frozenset(names), tuple(suffixes), tuple(networks), frozenset(pairs))

    def allows(self, host: str, port: object = None) -> bool:
        """Whether a connection to ``host`` (a name or an address) on ``port`` may go out."""
        return is_local(host) or self.lists(host, port)

    def ports_of(self, host: str) -> frozenset[int]:
        """The ports ``host`` is let through on as an endpoint (none: it is not one)."""
        spelled = _spelled(host)
        return frozenset(p for h, p in self.endpoints if h == spelled)

    def lists(self, host: str, port: object = None) -> bool:
        """Whether ``host`` is one of these entries; ``localhost`` listed names every loopback
        address (what lets a loopback server through that a recording was recorded against);
        a local endpoint names its host on its ``port`` only."""
        if "localhost" in self.names and is_local(host):
            return True
        if self.endpoints and (_spelled(host), port_number(port)) in self.endpoints:
            return True
        address = address_of(host)
        if address is None:
            name = host_name(host)
            return name in self.names or name.endswith(self.suffixes)
        return any(address in network for network in self.networks)

    def endpoint_host_passes(self, host: str, port: object, action: str) -> bool:
        """Whether an endpoint's host may be reached for ``action`` on any port: resolving
        its name (its addresses are then let through on its ports only), or a reply sent to
        a client on it (an in-process server's), on a port the system gives clients."""
        if not self.ports_of(host):
            return False
        return action == "resolve" or (action == "send" and port_number(port) in ephemeral_ports())

    def __bool__(self) -> bool:
        return bool(self.names or self.suffixes or self.networks or self.endpoints)


_LOCALHOST_ADDRESSES = ("127.0.0.1", "::1")  # what "localhost" resolves to


def _spelled(host: str) -> str:
    """One spelling per host: an address as Python writes it, a name as :func:`host_name`."""
    address = address_of(host)
    return str(address) if address is not None else host_name(host)


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def origin_of_url(url: object) -> str | None:
    """``scheme://host:port`` of an absolute URL (no credentials, no path), else None."""
    if not isinstance(url, str) or "://" not in url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None
    host = parts.hostname
    if not host or port is None:
        return None
    where = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{where}:{port}"


@dataclass(frozen=True)
class RecordedHosts:
    """The hosts a recording's answers were recorded against, as ``(host, port)``.

    Only the loopback ones change a decision: other hosts are blocked anyway (unless listed
    in ``allow_hosts``, which wins). Any loopback spelling (``localhost``, 127.0.0.1, ::1,
    0.0.0.0) names the same server, so those are kept by port."""

    hosts: frozenset[tuple[str, int]] = frozenset()
    local_ports: frozenset[int] = frozenset()

    @classmethod
    def of(cls, origins: Iterable[str]) -> RecordedHosts:
        hosts = set()
        for origin in origins:
            parts = urlsplit(origin)
            try:
                port = parts.port
            except ValueError:
                continue
            if parts.hostname and port is not None:
                hosts.add((parts.hostname, port))
        local = frozenset(p for h, p in hosts if is_local(h))
        return cls(frozenset(hosts), local)

    def blocks(self, host: str, port: object, *, sending: bool = False) -> bool:
        """Whether a connection to loopback ``host``:``port`` goes to a recorded server.

        ``sending``: data sent on a connection made earlier. Both of its ends are on this
        machine, and a port the system hands out to clients (a fake server bound to port 0
        was given one) may now be a client's, so the far end of an in-process server's reply
        would look recorded: such ports are judged when connecting only."""
        if not isinstance(port, int) or port not in self.local_ports or not is_local(host):
            return False
        return not sending or port not in ephemeral_ports()


@functools.cache
def ephemeral_ports() -> range:
    """The ports the system gives the client end of a connection."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(n) for n in f.read().split())
    except (OSError, ValueError):
        low, high = 49152, 65535  # the IANA range: macOS, Windows
    return range(low, high + 1)
