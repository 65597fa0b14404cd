"""The socket-layer wrappers of the network guard (:mod:`apirec.record.network_guard`).

Each wrapper asks the guard's state first and does nothing more while no guarding recording is
open, so one left in place under another tool's patch is harmless.
"""

from __future__ import annotations

import functools
import socket
from collections.abc import Callable
from typing import Any, Protocol

from apirec.record.hosts import address_of

INET = (socket.AF_INET, socket.AF_INET6)


class GuardState(Protocol):
    @property
    def guards(self) -> tuple[object, ...]: ...

    def check(self, host: str, port: Any, action: str) -> None: ...

    def resolved_allowed(self, host: str, results: list[Any]) -> None: ...


Wrap = Callable[[GuardState, Callable[..., Any]], Callable[..., Any]]


def _host_port(address: Any) -> tuple[str, Any] | None:
    if isinstance(address, tuple) and len(address) >= 2:
        host = address[0]
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if isinstance(host, str):
            return host.partition("%")[0], address[1]
    return None  # malformed: the real call raises its own error


def _check_address(state: GuardState, sock: socket.socket, address: Any, action: str) -> None:
    if sock.family in INET:
        found = _host_port(address)
        if found is not None:
            state.check(found[0], found[1], action)


def _wrap_connect(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(self: socket.socket, address: Any) -> Any:
        if state.guards:
            _check_address(state, self, address, "connect")
        return original(self, address)

    return connect


def _wrap_sendto(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def sendto(self: socket.socket, data: Any, *rest: Any) -> Any:
        if state.guards and rest:
            _check_address(state, self, rest[-1], "send")  # sendto(data, [flags,] address)
        return original(self, data, *rest)

    return sendto


def _wrap_sendmsg(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def sendmsg(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if state.guards:
            address = args[3] if len(args) > 3 else kwargs.get("address")
            if address is not None:
                _check_address(state, self, address, "send")
        return original(self, *args, **kwargs)

    return sendmsg


def _wrap_getaddrinfo(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if not state.guards or host is None:
            return original(host, port, *args, **kwargs)
        name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
        flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
        if address_of(name.partition("%")[0]) is not None or flags & socket.AI_NUMERICHOST:
            return original(host, port, *args, **kwargs)  # no lookup; the connect is judged
        state.check(name, port, "resolve")
        results = original(host, port, *args, **kwargs)
        state.resolved_allowed(name, results)
        return results

    return getaddrinfo


TARGETS: tuple[tuple[Any, str, Wrap], ...] = (
    (socket.socket, "connect", _wrap_connect),
    (socket.socket, "connect_ex", _wrap_connect),
    (socket.socket, "sendto", _wrap_sendto),
    (socket.socket, "sendmsg", _wrap_sendmsg),
    (socket, "getaddrinfo", _wrap_getaddrinfo),
)
