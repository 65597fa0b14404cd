"""The network guard: under replay, a call that went past the patches cannot reach the network.

While at least one guard is open (a recording in replay mode with ``block_network`` on, the
default; or, under pytest with ``--apirec-block-network=all``, the test run itself), the
socket layer is wrapped (:mod:`apirec.guard.sockets`): new connections, datagrams, data sent on
sockets connected before the guard opened (a keep-alive pool, a warm-up), and every name or
address lookup (``getaddrinfo``, ``gethostbyname(_ex)``, ``gethostbyaddr``, ``getnameinfo``),
so not even a DNS query leaves. Unix domain sockets and other families are never touched.
The wrappers go in when the first guard opens and come out, restoring exactly what was there,
when the last one closes; nothing is wrapped otherwise, so decorated calls never pay for it.
While held (:func:`hold`: the pytest plugin, for a replay run, whose every test observes and
most open a recording) they stay in once in, doing nothing while no guard or observer is open,
and come out at :func:`release`.

Which connections pass, judged at the moment of the connect, the lookup or the send:

* loopback (127.0.0.0/8, ::1, ``localhost``) and "this host" (0.0.0.0, ::), except the
  loopback servers the open recordings were recorded against (by port: an SDK pointed at a
  local model server must not reach it on replay through an entry point nobody patched);
* calls made for a recording that says ``block_network=False``, in any mode (the recording of
  a call is found by the resolver the recorder registers: :func:`resolve_with`);
* under the run's guard alone, calls made for a recording that does not replay;
* hosts that any open guard lists in ``allow_hosts``, and the addresses such a listed name
  resolved to; this wins over the recorded hosts.

A nested recording in ``record`` or ``record-if-missing`` mode does not open the network by
itself inside a replaying one: its live calls are blocked until it says
``block_network=False``.

Observers (:func:`observe`) are told of connections to non-loopback hosts made outside any
recording while no guard blocks them: the pytest plugin counts such tests.

The state is process-wide by necessity (the socket module is), like the stacks in
:mod:`apirec.record.context`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apirec.errors import ApirecError, NetworkBlocked
from apirec.guard.addresses import IPAddress, address_of, is_local, port_number
from apirec.guard.sockets import CONNECT, OBSERVE, SEND

if TYPE_CHECKING:  # the rules come with the recordings that guard: every run loads this module
    from apirec.guard.guarded import Guarded

_MISSING = object()
_OURS = "__apirec_guard__"
# per level: what is installed, as (key, owner, name, make), and the keys alone
_LEVELS = tuple(
    tuple(((id(owner), name), owner, name, make) for owner, name, make in targets)
    for targets in ((), OBSERVE, (*CONNECT, *SEND))
)
_KEYS = tuple(frozenset(target[0] for target in level) for level in _LEVELS)
_KEEP = 100  # blocked attempts kept per list for the report (a retry loop must not grow it)


class _Guard:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # replaced whole under the lock, read without it
        self.guards: tuple[Guarded, ...] = ()
        self.openers: tuple[Guarded, ...] = ()
        self.run_wide: tuple[Guarded, ...] = ()  # guards that are no recording
        self.watchers: tuple[list[NetworkBlocked], ...] = ()
        self.observers: tuple[list[tuple[str, Any]], ...] = ()
        self.active = False  # guards or observers: the wrappers have work to do
        self.resolve: Callable[[], object] = lambda: None
        self.report: Callable[[NetworkBlocked], None] = lambda error: None
        self.listeners: tuple[Callable[[NetworkBlocked], None], ...] = ()
        self.level = 0  # what is installed: 0 nothing, 1 what observers need, 2 everything
        self.held = 0  # holds (hold()): what is installed stays until the last is released
        self.installed: dict[tuple[int, str], tuple[Any, str, object, object]] = {}
        # the last wrapper made for each target, reused while the same original is there (no
        # growth per open); each is marked, to recognise one left under another tool's patch
        self.made: dict[tuple[int, str], tuple[object, object]] = {}
        self.resolved: set[IPAddress] = set()  # what allowed names resolved to while on
        self.lookup_names: set[str] = set()  # allowed names resolved to check an address
        self.resolved_ports: set[tuple[IPAddress, int]] = set()  # endpoints' (address, port)

    def enter(self, rec: Guarded, *, run_wide: bool = False) -> None:
        with self.lock:
            if rec.settings.block_network is False and not run_wide:
                self.openers = (*self.openers, rec)
            elif run_wide or rec.settings.guards_network:
                self.guards = (*self.guards, rec)
                if run_wide:
                    self.run_wide = (*self.run_wide, rec)
                self._sync()

    def exit(self, rec: Guarded) -> None:
        with self.lock:
            self.openers = _without(self.openers, rec)
            if _holds(self.guards, rec):
                self.guards = _without(self.guards, rec)
                self.run_wide = _without(self.run_wide, rec)
                self._sync()

    # -- the patches ---------------------------------------------------------------------------

    def _sync(self) -> None:
        """Install what the guards and observers need, remove the rest unless held (under
        the lock)."""
        needed = 2 if self.guards else 1 if self.observers else 0
        self.active = needed > 0
        if needed < 2:
            self.resolved.clear()
            self.resolved_ports.clear()
            self.lookup_names.clear()
        level = max(needed, self.level) if self.held else needed
        # held wrappers something put back what was under (monkeypatch's undo, a tool's
        # teardown): wrapped again over what is there now, as a fresh install would
        displaced = self.held and needed > 0 and self._forget_displaced()
        if level == self.level and not displaced:
            return  # a nested guard, or held: nothing to change
        self.level = level
        wanted = _LEVELS[level]
        keep = _KEYS[level]
        for target in [t for t in self.installed if t not in keep][::-1]:
            self._remove(target)
        installed, made = self.installed, self.made
        for key, owner, name, make in wanted:
            if key in installed:
                continue
            # _add inlined: a test opens and closes a recording, so this runs twice per test
            current = getattr(owner, name)
            pair = made.get(key)
            if pair is None or pair[0] is not current:  # not the original we wrapped last
                if getattr(current, _OURS, False):
                    continue  # ours, left under another tool's patch: active again
                wrapper = make(self, current)
                setattr(wrapper, _OURS, True)
                made[key] = pair = (current, wrapper)
            installed[key] = (owner, name, owner.__dict__.get(name, _MISSING), pair[1])
            setattr(owner, name, pair[1])

    def _forget_displaced(self) -> bool:
        gone = [k for k, (o, n, _, w) in self.installed.items() if o.__dict__.get(n) is not w]
        for key in gone:
            del self.installed[key]  # not restored: what is there now is someone else's
        return bool(gone)

    def _remove(self, target: tuple[int, str]) -> None:
        owner, name, saved, wrapper = self.installed.pop(target)
        if owner.__dict__.get(name) is not wrapper:
            return  # another tool patched over ours: keep theirs; ours is now inert
        if saved is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, saved)

    # -- the decision --------------------------------------------------------------------------

    def check(self, host: str, port: int | str | None, action: str) -> None:
        __tracebackhide__ = True  # a blocked call's traceback ends at the caller's line
        guards = self.guards
        if not guards:
            # observers hear of connections only (lookups are wrapped only while held)
            if self.observers and action == "connect" and not is_local(host):
                self._observe(host, port)
            return
        local = is_local(host)
        if local and (action == "resolve" or not _recorded(guards, host, port, action)):
            return  # a loopback lookup asks no one
        current: object = self.resolve()
        if _holds(self.openers, current):
            return
        if len(self.run_wide) == len(guards) and not _replays(current):
            return  # the run's guard judges replays and calls outside any recording
        rules = [g.settings.host_rules for g in guards]
        if (
            any(r.lists(host, port) for r in rules)
            if local
            else any(r.allows(host, port) for r in rules)
        ):
            return
        if not local and any(r.endpoint_host_passes(host, port, action) for r in rules):
            return
        address = None if local else address_of(host)
        if address is not None and self._resolves_to_allowed(address, port, guards):
            return
        blocker = next((g for g in guards if g is current), guards[-1])
        error = NetworkBlocked(
            _message(host, port, action, blocker, current, local),
            host=host,
            port=port,
            recording="" if _holds(self.run_wide, blocker) else str(blocker.settings.path),
            action=action,
        )
        for seen in (*(g.blocked for g in guards), *self.watchers):
            if len(seen) < _KEEP:
                seen.append(error)
        self.report(error)
        for listener in self.listeners:
            listener(error)
        raise error

    def _observe(self, host: str, port: int | str | None) -> None:
        if self.resolve() is None:
            for seen in self.observers:
                if len(seen) < _KEEP:
                    seen.append((host, port))

    def _resolves_to_allowed(
        self, address: IPAddress, port: object, guards: tuple[Guarded, ...]
    ) -> bool:
        if address in self.resolved or (address, port_number(port)) in self.resolved_ports:
            return True
        # An address from a resolver the guard did not see (c-ares, a cache): look up the
        # listed names once each, with the resolver that was there before the guard.
        rules = [g.settings.host_rules for g in guards]
        names = {n for r in rules for n in (*r.names, *dict(r.endpoints))} - self.lookup_names
        for name in names:
            self.lookup_names.add(name)
            try:
                found = _unguarded_getaddrinfo()(name, None)
            except OSError:
                continue
            self.resolved_allowed(name, [str(r[4][0]) for r in found])
        return address in self.resolved or (address, port_number(port)) in self.resolved_ports

    def resolved_allowed(self, host: str, addresses: list[str]) -> None:
        if self.guards and not is_local(host):
            rules = [g.settings.host_rules for g in self.guards]
            # a remote's endpoint, and not listed otherwise: its addresses on its ports only
            listed = any(r.lists(host) for r in rules)
            ports = set() if listed else {p for r in rules for p in r.ports_of(host)}
            found = [a for t in addresses if (a := address_of(t.partition("%")[0])) is not None]
            if ports:
                self.resolved_ports |= {(a, p) for a in found for p in ports}
            else:
                self.resolved.update(found)


_GUARD = _Guard()


def resolve_with(resolve: Callable[[], object]) -> None:
    """How the guard finds the recording a call belongs to (the recorder registers its
    ``active_recording``): the guard never imports the recorder."""
    _GUARD.resolve = resolve


def report_with(report: Callable[[NetworkBlocked], None]) -> None:
    """Who else hears of each blocked connection (the recorder's ``note_replay_error``: a
    server sends it back to the test whose request it was serving)."""
    _GUARD.report = report


def listen(listener: Callable[[NetworkBlocked], None]) -> None:
    """Call ``listener`` with each connection blocked from now on, by any guard, before it
    is raised (``apirec run`` says on the server's stderr what was blocked)."""
    with _GUARD.lock:
        _GUARD.listeners = (*_GUARD.listeners, listener)


def on_open(rec: Guarded) -> None:
    """``rec`` opens: guard the network while it is open, or open it for its calls."""
    _GUARD.enter(rec)


def on_close(rec: Guarded) -> None:
    _GUARD.exit(rec)


def guard_run(guard: Guarded) -> None:
    """Guard calls outside any recording too, until :func:`on_close` (``guard``: the run's,
    the pytest plugin's ``--apirec-block-network=all``)."""
    _GUARD.enter(guard, run_wide=True)


def watch() -> list[NetworkBlocked]:
    """A list that receives every connection blocked from now on, by any guard, until
    :func:`unwatch` (the pytest plugin's per-test check)."""
    seen: list[NetworkBlocked] = []
    with _GUARD.lock:
        _GUARD.watchers = (*_GUARD.watchers, seen)
    return seen


def unwatch(seen: list[NetworkBlocked]) -> None:
    with _GUARD.lock:
        _GUARD.watchers = tuple(w for w in _GUARD.watchers if w is not seen)


def hold() -> None:
    """Leave the wrappers in once they went in, inert while nothing guards or observes, until
    :func:`release`: for a run that opens and closes guards test after test, putting them in
    and taking them out each time costs more than the checks they make while inert."""
    with _GUARD.lock:
        _GUARD.held += 1


def release() -> None:
    """End a :func:`hold`: with no hold left, what no guard or observer needs comes out."""
    with _GUARD.lock:
        _GUARD.held = max(0, _GUARD.held - 1)
        _GUARD._sync()


def observe() -> list[tuple[str, Any]]:
    """A list that receives ``(host, port)`` of each connection or lookup of a non-loopback
    host made outside any recording while no guard is open, until :func:`unobserve`."""
    seen: list[tuple[str, Any]] = []
    with _GUARD.lock:
        _GUARD.observers = (*_GUARD.observers, seen)
        _GUARD._sync()
    return seen


def unobserve(seen: list[tuple[str, Any]]) -> None:
    with _GUARD.lock:
        _GUARD.observers = tuple(o for o in _GUARD.observers if o is not seen)
        _GUARD._sync()


def _holds(recs: tuple[Guarded, ...], rec: object) -> bool:
    return any(r is rec for r in recs)


def _without(recs: tuple[Guarded, ...], rec: Guarded) -> tuple[Guarded, ...]:
    for i in range(len(recs) - 1, -1, -1):
        if recs[i] is rec:
            return recs[:i] + recs[i + 1 :]
    return recs


def _replays(current: object) -> bool:
    """Whether the call is outside any recording, or made for one that guards (replays)."""
    settings = getattr(current, "settings", None)
    return current is None or bool(getattr(settings, "guards_network", False))


def _recorded(guards: tuple[Guarded, ...], host: str, port: int | str | None, action: str) -> bool:
    for g in guards:
        try:
            if g.recorded_hosts().blocks(host, port, sending=action == "send"):
                return True
        except ApirecError:
            continue  # a store that cannot be read: its replay says so itself
    return False


def _unguarded_getaddrinfo() -> Callable[..., Any]:
    saved = _GUARD.installed.get((id(socket), "getaddrinfo"))
    if saved is not None and callable(saved[2]):
        return saved[2]
    return socket.getaddrinfo


def _message(
    host: str,
    port: int | str | None,
    action: str,
    blocker: Guarded,
    current: object,
    local: bool,
) -> str:
    where = f"[{host}]" if ":" in host else host
    target = {
        "connect": f"a connection to {where}:{port}",
        "send": f"data sent to {where}:{port}",
        "resolve": f"looking up {host!r}" + ("" if port is None else f" (port {port})"),
    }[action]
    if _holds(_GUARD.run_wide, blocker):
        text = (
            f"apirec blocked {target} in a replay run (--apirec-block-network=all): a call "
            f"outside any recording went to the network. Record it (the apirec fixture or "
            f"@pytest.mark.apirec, with apirec.integrations.patch(...) or rec.patch(...)), or "
            f"let the host through with --apirec-allow-hosts={host}, or block only inside "
            f"recordings with --apirec-block-network=recordings"
        )
    else:
        text = (
            f"apirec blocked {target} under replay (recording {blocker.settings.path}): a "
            f"call went past the recording's patches to the network. Patch the entry point "
            f"it went through (rec.patch(...), apirec.integrations.patch(...)), or let the "
            f"host through with allow_hosts=[{host!r}], or turn the guard off with "
            f"block_network=False (options of apirec.recording() and @pytest.mark.apirec; "
            f"--apirec-allow-hosts, --apirec-no-block-network)"
        )
    if local:
        text += (
            f". {where}:{port} is a server this replay's recordings were recorded against "
            "(loopback is blocked for those)"
        )
    mode = getattr(current, "mode", None)
    value = getattr(mode, "value", None)
    if current is not blocker and value is not None and not _replays(current):
        path = getattr(getattr(current, "settings", None), "path", "?")
        text += (
            f". The recording in effect ({path}, mode {value}) does not open the network "
            "by itself inside a replay: give it block_network=False"
        )
    return text
