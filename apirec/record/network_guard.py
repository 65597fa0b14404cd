"""The network guard: under replay, a call that went past the patches cannot reach the network.

While at least one recording in replay mode with ``block_network`` on (the default) is open,
the socket layer is wrapped: ``socket.socket.connect``/``connect_ex`` (which ``socket.
create_connection``, ``ssl``, asyncio's ``create_connection``/``sock_connect``, httpx, requests
and aiohttp all go through), ``sendto``/``sendmsg`` with an address (UDP), and
``socket.getaddrinfo`` (names are judged before they are resolved, so not even a DNS query
leaves). Unix domain sockets and other families are never touched. The wrappers are installed
by the first guarding recording to open and removed, restoring exactly what was there, when the
last one closes; nothing is wrapped otherwise, so decorated calls never pay for it.

Which connections pass, judged at the moment of the connect:

* loopback (127.0.0.0/8, ::1, ``localhost``) and "this host" (0.0.0.0, ::), always;
* calls made for a recording that says ``block_network=False`` (found the way calls find their
  recording: the recording of this context, else the innermost open one), in any mode;
* hosts that any open guarding recording lists in ``allow_hosts``, and the addresses such a
  listed name resolved to.

A nested recording in ``record`` or ``record-if-missing`` mode does not open the network by
itself: its live calls are blocked until it says ``block_network=False``.

The wrapper state is process-wide by necessity (the socket module is), like the stacks in
:mod:`apirec.record.context`.
"""

from __future__ import annotations

import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from apirec.errors import NetworkBlocked
from apirec.record.context import active_recording
from apirec.record.hosts import IPAddress, address_of, is_local
from apirec.record.modes import Mode
from apirec.record.settings import Settings
from apirec.record.socket_wrappers import INET, TARGETS

_MISSING = object()
_KEEP = 100  # blocked attempts kept per recording for the report


class Guarded(Protocol):
    """What the guard needs of a recording (``Recording`` is one)."""

    settings: Settings
    mode: Mode
    blocked: list[NetworkBlocked]


class _Guard:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # replaced whole under the lock, read without it
        self.guards: tuple[Guarded, ...] = ()
        self.openers: tuple[Guarded, ...] = ()
        self.watchers: tuple[list[NetworkBlocked], ...] = ()
        self.installed: list[tuple[Any, str, object, object]] = []
        # our wrappers, to recognise one left under another tool's patch, and the last one
        # made for each target (reused while the same original is there: no growth per open)
        self.ours: weakref.WeakSet[Any] = weakref.WeakSet()
        self.made: dict[tuple[int, str], tuple[object, object]] = {}
        self.resolved: set[IPAddress] = set()  # what allowed names resolved to while on
        self.lookup_names: set[str] = set()  # allowed names resolved to check an address

    def enter(self, rec: Guarded) -> None:
        with self.lock:
            if rec.settings.block_network is False:
                self.openers = (*self.openers, rec)
            elif rec.settings.guards_network:
                if not self.guards:
                    self._install()
                self.guards = (*self.guards, rec)

    def exit(self, rec: Guarded) -> None:
        with self.lock:
            self.openers = _without(self.openers, rec)
            if _holds(self.guards, rec):
                self.guards = _without(self.guards, rec)
                if not self.guards:
                    self._uninstall()

    # -- the patches ---------------------------------------------------------------------------

    def _install(self) -> None:
        for owner, name, make in TARGETS:
            current = getattr(owner, name)
            if current in self.ours:
                continue  # ours, left under another tool's patch: active again
            original, wrapper = self.made.get((id(owner), name), (None, None))
            if original is not current:
                wrapper = make(self, current)
                self.ours.add(wrapper)
                self.made[id(owner), name] = (current, wrapper)
            self.installed.append((owner, name, vars(owner).get(name, _MISSING), wrapper))
            setattr(owner, name, wrapper)

    def _uninstall(self) -> None:
        for owner, name, saved, wrapper in reversed(self.installed):
            if vars(owner).get(name) is not wrapper:
                continue  # another tool patched over ours: keep theirs; ours is now inert
            if saved is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, saved)
        self.installed.clear()
        self.resolved.clear()
        self.lookup_names.clear()

    # -- the decision --------------------------------------------------------------------------

    def check(self, host: str, port: int | str | None, action: str) -> None:
        guards = self.guards
        if not guards or is_local(host):
            return
        current: object = active_recording()
        if _holds(self.openers, current):
            return
        if any(g.settings.host_rules.allows(host) for g in guards):
            return
        address = address_of(host)
        if address is not None and self._resolves_to_allowed(address, guards):
            return
        blocker = next((g for g in guards if g is current), guards[-1])
        error = NetworkBlocked(
            _message(host, port, action, blocker, current),
            host=host,
            port=port,
            recording=str(blocker.settings.path),
            action=action,
        )
        for seen in (*(rec.blocked for rec in guards), *self.watchers):
            if len(seen) < _KEEP:  # a retry loop must not grow it without end
                seen.append(error)
        raise error

    def _resolves_to_allowed(self, address: IPAddress, guards: tuple[Guarded, ...]) -> bool:
        if address in self.resolved:
            return True
        # An address from a resolver the guard did not see (c-ares, a cache): look up the
        # listed names once each, with the resolver that was there before the guard.
        names = {n for g in guards for n in g.settings.host_rules.names} - self.lookup_names
        for name in names:
            self.lookup_names.add(name)
            try:
                found = _unguarded_getaddrinfo()(name, None)
            except OSError:
                continue
            self.resolved.update(_addresses(found))
        return address in self.resolved

    def resolved_allowed(self, host: str, results: list[Any]) -> None:
        if not is_local(host):
            self.resolved.update(_addresses(results))


_GUARD = _Guard()


def on_open(rec: Guarded) -> None:
    """``rec`` opens: guard the network while it is open, or open it for its calls."""
    _GUARD.enter(rec)


def on_close(rec: Guarded) -> None:
    _GUARD.exit(rec)


def watch() -> list[NetworkBlocked]:
    """A list that receives every connection blocked from now on, by any recording, until
    :func:`unwatch` (the pytest plugin's per-test check)."""
    seen: list[NetworkBlocked] = []
    with _GUARD.lock:
        _GUARD.watchers = (*_GUARD.watchers, seen)
    return seen


def unwatch(seen: list[NetworkBlocked]) -> None:
    with _GUARD.lock:
        _GUARD.watchers = tuple(w for w in _GUARD.watchers if w is not seen)


def _holds(recs: tuple[Guarded, ...], rec: object) -> bool:
    return any(r is rec for r in recs)


def _without(recs: tuple[Guarded, ...], rec: Guarded) -> tuple[Guarded, ...]:
    for i in range(len(recs) - 1, -1, -1):
        if recs[i] is rec:
            return recs[:i] + recs[i + 1 :]
    return recs


def _addresses(results: list[Any]) -> set[IPAddress]:
    found = set()
    for family, _, _, _, sockaddr in results:
        if family in INET:
            address = address_of(str(sockaddr[0]).partition("%")[0])
            if address is not None:
                found.add(address)
    return found


def _unguarded_getaddrinfo() -> Callable[..., Any]:
    for owner, name, saved, _ in _GUARD.installed:
        if owner is socket and name == "getaddrinfo" and callable(saved):
            return saved
    return socket.getaddrinfo


def _message(
    host: str, port: int | str | None, action: str, blocker: Guarded, current: object
) -> str:
    where = f"[{host}]" if ":" in host else host
    target = {
        "connect": f"a connection to {where}:{port}",
        "send": f"a datagram to {where}:{port}",
        "resolve": f"looking up {host!r} (port {port})",
    }[action]
    text = (
        f"apirec blocked {target} under replay (recording {blocker.settings.path}): a call "
        f"went past the recording's patches to the network. Patch the entry point it went "
        f"through (rec.patch(...), apirec.integrations.patch(...)), or let the host through "
        f"with allow_hosts=[{host!r}], or turn the guard off with block_network=False "
        f"(options of apirec.recording() and @pytest.mark.apirec; --apirec-allow-hosts, "
        f"--apirec-no-block-network)"
    )
    mode = getattr(current, "mode", None)
    if current is not blocker and isinstance(mode, Mode) and mode is not Mode.REPLAY:
        path = getattr(getattr(current, "settings", None), "path", "?")
        text += (
            f". The recording in effect ({path}, mode {mode.value}) does not open the network "
            "by itself inside a replay: give it block_network=False"
        )
    return text
