"""The socket-layer wrappers of the network guard (:mod:`apirec.guard.core`).

Groups, installed on the classes and the module, never on socket instances (a socket's
methods are C slots that cannot be replaced per object; asyncio's transports, ``ssl`` and
httpcore call them through the class, so a class attribute is what every path meets):

* ``OBSERVE``: new connections (``connect``, ``connect_ex``), all that observers need;
* ``CONNECT``: new connections (``connect``, ``connect_ex``), datagrams with an address
  (``sendto``, ``sendmsg``), and every lookup (``getaddrinfo``, ``gethostbyname``,
  ``gethostbyname_ex``, ``gethostbyaddr``, ``getnameinfo``);
* ``SEND``: data sent on a socket connected earlier (``send``, ``sendall``, ``sendmsg``,
  ``sendfile``, and ``ssl.SSLSocket.send``, which ``SSLSocket.sendall`` and ``sendfile`` go
  through, and ``SSLSocket.write``), judged by the socket's peer.

Each wrapper asks the guard's state first and does nothing more while it has nothing to do,
so one left in place under another tool's patch is harmless.

Every wrapper and check sets ``__tracebackhide__``: under pytest, a connection that fails (or
is blocked) ends its traceback at the caller's line, not in apirec's frames.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import ssl
from collections.abc import Callable
from typing import Any, Protocol

from apirec.guard.addresses import address_of

INET = (socket.AF_INET, socket.AF_INET6)


class GuardState(Protocol):
    @property
    def active(self) -> bool: ...  # guarding or observing: a wrapper has work to do

    @property
    def guards(self) -> tuple[object, ...]: ...

    def check(self, host: str, port: Any, action: str) -> None: ...

    def resolved_allowed(self, host: str, addresses: list[str]) -> None: ...


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
    __tracebackhide__ = True
    if sock.family in INET:
        found = _host_port(address)
        if found is not None:
            state.check(found[0], found[1], action)


def _check_peer(state: GuardState, sock: socket.socket) -> None:
    __tracebackhide__ = True
    if sock.family in INET:
        try:
            peer = sock.getpeername()
        except OSError:
            return  # not connected: the real call raises its own error
        try:
            state.check(str(peer[0]).partition("%")[0], peer[1], "send")
        except OSError:
            # Refused: end the connection too (a FIN, no data), so a client that reads a
            # reply after a failed write (httpcore does) fails at once instead of waiting
            # for the server's idle timeout. Its pool connects afresh after the replay.
            if sock.type == socket.SOCK_STREAM:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            raise


def _wrap_connect(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def connect(self: socket.socket, address: Any) -> Any:
        __tracebackhide__ = True
        if state.active:
            _check_address(state, self, address, "connect")
        return original(self, address)

    return connect


def _wrap_sendto(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def sendto(self: socket.socket, data: Any, *rest: Any) -> Any:
        __tracebackhide__ = True
        if state.guards and rest:
            _check_address(state, self, rest[-1], "send")  # sendto(data, [flags,] address)
        return original(self, data, *rest)

    return sendto


def _wrap_sendmsg(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def sendmsg(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if state.guards:
            address = args[3] if len(args) > 3 else kwargs.get("address")
            if address is not None:
                _check_address(state, self, address, "send")
            else:
                _check_peer(state, self)
        return original(self, *args, **kwargs)

    return sendmsg


def _wrap_send(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    """``send``, ``sendall``, ``sendfile``: the first argument is the data, the peer decides."""

    @functools.wraps(original)
    def send(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if state.guards:
            _check_peer(state, self)
        return original(self, *args, **kwargs)

    return send


def _name_of(host: Any) -> str:
    return host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)


def _wrap_getaddrinfo(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        if not state.active or host is None:
            return original(host, port, *args, **kwargs)
        name = _name_of(host)
        flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
        if address_of(name.partition("%")[0]) is not None or flags & socket.AI_NUMERICHOST:
            return original(host, port, *args, **kwargs)  # no lookup; the connect is judged
        state.check(name, port, "resolve")
        results = original(host, port, *args, **kwargs)
        state.resolved_allowed(name, [str(r[4][0]) for r in results if r[0] in INET])
        return results

    return getaddrinfo


def _wrap_gethostbyname(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    """``gethostbyname`` and ``gethostbyname_ex``: a name is looked up, an address is not."""

    @functools.wraps(original)
    def gethostbyname(host: Any) -> Any:
        __tracebackhide__ = True
        if not state.active:
            return original(host)
        name = _name_of(host)
        if address_of(name.partition("%")[0]) is not None:
            return original(host)
        state.check(name, None, "resolve")
        result = original(host)
        state.resolved_allowed(name, [result] if isinstance(result, str) else list(result[2]))
        return result

    return gethostbyname


def _wrap_gethostbyaddr(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    """A reverse lookup asks a name server about the address (a forward one, about a name)."""

    @functools.wraps(original)
    def gethostbyaddr(host: Any) -> Any:
        __tracebackhide__ = True
        if state.active:
            state.check(_name_of(host).partition("%")[0], None, "resolve")
        return original(host)

    return gethostbyaddr


def _wrap_getnameinfo(state: GuardState, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def getnameinfo(sockaddr: Any, flags: int) -> Any:
        __tracebackhide__ = True
        if state.active and not flags & socket.NI_NUMERICHOST:
            found = _host_port(sockaddr)
            if found is not None:
                state.check(found[0], found[1], "resolve")
        return original(sockaddr, flags)

    return getnameinfo


OBSERVE: tuple[tuple[Any, str, Wrap], ...] = (
    (socket.socket, "connect", _wrap_connect),
    (socket.socket, "connect_ex", _wrap_connect),
)
CONNECT: tuple[tuple[Any, str, Wrap], ...] = (
    *OBSERVE,
    (socket.socket, "sendto", _wrap_sendto),
    (socket, "getaddrinfo", _wrap_getaddrinfo),
    (socket, "gethostbyname", _wrap_gethostbyname),
    (socket, "gethostbyname_ex", _wrap_gethostbyname),
    (socket, "gethostbyaddr", _wrap_gethostbyaddr),
    (socket, "getnameinfo", _wrap_getnameinfo),
)
SEND: tuple[tuple[Any, str, Wrap], ...] = (
    (socket.socket, "sendmsg", _wrap_sendmsg),
    (socket.socket, "send", _wrap_send),
    (socket.socket, "sendall", _wrap_send),
    (socket.socket, "sendfile", _wrap_send),
    (ssl.SSLSocket, "send", _wrap_send),
    (ssl.SSLSocket, "write", _wrap_send),  # straight to the TLS object, not through send
)
