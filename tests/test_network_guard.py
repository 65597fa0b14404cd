"""The network guard (issue 11, D17): under replay, nothing reaches the network unseen.

Real sockets throughout. Addresses outside 127.0.0.1 are TEST-NET (192.0.2.0/24, 2001:db8::/32)
or names that are never resolved: the guard raises before the operating system is asked, so a
NetworkBlocked (rather than a timeout, "unreachable" or a DNS failure) is the proof that nothing
left. Where a connection must really pass, it goes to this machine's own non-loopback address.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import nullcontext

import pytest

import apirec
from apirec.guard.hosts import HostRules

BLOCKED = [("192.0.2.1", 80), ("10.255.255.1", 443), ("2001:db8::1", 443)]


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


@pytest.fixture
def replay(store_dir):
    return apirec.recording(store_dir, mode="replay")


class Listener:
    """A TCP server on ``host`` that accepts in a thread; counts connections it saw."""

    def __init__(self, host: str, family: socket.AddressFamily = socket.AF_INET) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen()
        self.sock.settimeout(0.02)  # a closed socket does not wake accept() everywhere
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.sendall(b"k")  # the client waits for it: counted before the client goes on
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def talk(host: str, port: int) -> None:
    """Connect to a Listener and wait for its greeting."""
    with socket.create_connection((host, port), timeout=5) as conn:
        assert conn.recv(1) == b"k"


@pytest.fixture
def own_server(own_address) -> Iterator[tuple[str, Listener]]:
    server = Listener("0.0.0.0")
    try:
        yield own_address, server
    finally:
        server.close()


# -- blocked -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("host", "port"), BLOCKED)
def test_replay_blocks_a_connection_before_it_is_attempted(replay, store_dir, host, port):
    with replay, socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        with pytest.raises(apirec.NetworkBlocked) as info:
            sock.connect((host, port))
    error = info.value
    assert (error.host, error.port, error.recording) == (host, port, str(store_dir))
    where = f"[{host}]" if ":" in host else host
    assert f"{where}:{port}" in str(error) and str(store_dir) in str(error)
    assert replay.blocked == [error]


@pytest.mark.parametrize(("host", "port"), BLOCKED)
def test_connect_ex_and_create_connection_are_blocked_too(replay, host, port):
    with replay:
        with socket.socket(_family(host)) as sock, pytest.raises(apirec.NetworkBlocked):
            sock.connect_ex((host, port))
        with pytest.raises(apirec.NetworkBlocked):
            socket.create_connection((host, port), timeout=5)


def test_a_name_is_blocked_before_it_is_resolved(replay):
    """No DNS query leaves either: in a sandbox without DNS the bypass would otherwise surface
    as a resolution error the guard never saw."""
    with replay:
        with pytest.raises(apirec.NetworkBlocked) as info:
            socket.getaddrinfo("api.openai.com", 443)
        with pytest.raises(apirec.NetworkBlocked):
            socket.create_connection(("api.openai.com", 443), timeout=5)
        with socket.socket() as sock, pytest.raises(apirec.NetworkBlocked):
            sock.connect(("api.openai.com", 443))  # resolved inside connect itself
    assert (info.value.host, info.value.port) == ("api.openai.com", 443)


def test_udp_datagrams_are_blocked(replay):
    with replay, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        with pytest.raises(apirec.NetworkBlocked):
            sock.sendto(b"x", ("192.0.2.1", 53))
        with pytest.raises(apirec.NetworkBlocked):
            sock.sendto(b"x", 0, ("192.0.2.1", 53))


@pytest.mark.parametrize("target", ["192.0.2.1", "api.openai.com"])
async def test_asyncio_connections_are_blocked(replay, target):
    async with replay:
        with pytest.raises(apirec.NetworkBlocked):
            await asyncio.wait_for(asyncio.open_connection(target, 443), 5)
        loop = asyncio.get_running_loop()
        with socket.socket() as sock:
            sock.setblocking(False)
            with pytest.raises(apirec.NetworkBlocked):
                await asyncio.wait_for(loop.sock_connect(sock, (target, 443)), 5)


def test_network_blocked_is_a_connection_error_and_an_apirec_error():
    # what code expects from a failed connect: stdlib and SDK cleanup paths (except OSError)
    # close the socket and report their own connection error, never hang or retry unbounded
    assert issubclass(apirec.NetworkBlocked, ConnectionError)
    assert issubclass(apirec.NetworkBlocked, apirec.ApirecError)
    assert not issubclass(apirec.NetworkBlocked, apirec.RecordingNotFound)


# -- allowed -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bind", "connect"),
    [("127.0.0.1", "127.0.0.1"), ("127.0.0.2", "127.0.0.2"), ("127.0.0.1", "localhost")],
)
def test_loopback_is_never_blocked(replay, bind, connect):
    server = Listener(bind)
    try:
        with replay:
            talk(connect, server.port)
    finally:
        server.close()
    assert server.accepted == 1
    assert replay.blocked == []


def test_ipv6_loopback_is_never_blocked(replay):
    try:
        server = Listener("::1", socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        with replay:
            talk("::1", server.port)
    finally:
        server.close()
    assert server.accepted == 1


def test_unix_sockets_are_never_blocked(replay, tmp_path):
    path = str(tmp_path / "s")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        with replay, socket.socket(socket.AF_UNIX) as one, socket.socket(socket.AF_UNIX) as two:
            one.connect(path)
            assert two.connect_ex(path) == 0
    assert replay.blocked == []


@pytest.mark.parametrize(
    ("options", "targets"),
    [
        ({"block_network": False}, ["ci-llm.internal", "{ip}"]),
        ({"allow_hosts": ["{ip}"]}, ["{ip}"]),
        ({"allow_hosts": ["{net}"]}, ["{ip}"]),
        # the addresses a listed name resolved to are allowed too
        ({"allow_hosts": ["ci-llm.internal"]}, ["ci-llm.internal", "{ip}"]),
        ({"allow_hosts": ["*.internal"]}, ["ci-llm.internal", "{ip}"]),
    ],
)
def test_allowed_connections_reach_the_server(store_dir, own_server, monkeypatch, options, targets):
    ip, server = own_server
    # ci-llm.internal resolves to this machine, as /etc/hosts would say, below the guard
    real_getaddrinfo = socket.getaddrinfo

    def hosts_file(host, port, *args, **kwargs):
        if host == "ci-llm.internal":
            host = ip
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hosts_file)
    net = ".".join(ip.split(".")[:3]) + ".0/24"
    allow = [h.format(ip=ip, net=net) for h in options.get("allow_hosts", [])]
    rec = apirec.recording(
        store_dir, mode="replay", block_network=options.get("block_network"), allow_hosts=allow
    )
    with rec:
        for target in targets:
            talk(target.format(ip=ip), server.port)
    assert server.accepted == len(targets)
    assert rec.blocked == []


def test_without_the_guard_the_same_connection_is_blocked(store_dir, own_server):
    """The counterpart of the test above: this machine's own address is not loopback."""
    ip, server = own_server
    with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.NetworkBlocked):
        socket.create_connection((ip, server.port), timeout=5)
    assert server.accepted == 0


@pytest.mark.parametrize(
    ("entries", "host", "allowed"),
    [
        ((), "127.0.0.1", True),
        ((), "127.255.0.9", True),
        ((), "::1", True),
        ((), "::ffff:127.0.0.1", True),
        ((), "localhost", True),
        ((), "LOCALHOST.", True),
        ((), "0.0.0.0", True),  # "this host": connects to the machine itself
        ((), "10.0.0.1", False),
        ((), "api.openai.com", False),
        ((), "localhost.example.com", False),
        (("api.openai.com",), "API.OpenAI.com", True),
        (("api.openai.com",), "openai.com", False),
        (("*.openai.com",), "api.openai.com", True),
        (("*.openai.com",), "openai.com", False),
        (("10.1.2.3",), "10.1.2.3", True),
        (("10.1.2.3",), "10.1.2.4", False),
        (("10.0.0.0/8",), "10.200.1.1", True),
        (("10.0.0.0/8",), "::ffff:10.200.1.1", True),
        (("2001:db8::/32",), "2001:db8::5", True),
        (("2001:db8::/32",), "2001:db9::5", False),
    ],
)
def test_host_rules(entries, host, allowed):
    assert HostRules.parse(entries).allows(host) is allowed


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "empty"),
        ("api.openai.com:443", "host:port"),
        ("http://api.openai.com", "host"),
        ("10.0.0.0/33", "10.0.0.0/33"),
        ("two words", "two words"),
        (443, "443"),
    ],
)
def test_bad_allow_hosts_entries_are_clear_errors(store_dir, entry, message):
    with pytest.raises((ValueError, TypeError), match="allow_hosts") as info:
        apirec.recording(store_dir, allow_hosts=[entry])
    assert message in str(info.value)


def test_a_single_string_is_one_host(store_dir, own_server):
    ip, server = own_server
    with apirec.recording(store_dir, mode="replay", allow_hosts=ip):
        talk(ip, server.port)
    assert server.accepted == 1


# -- when the guard is on ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["record", "record-if-missing", "live"])
def test_other_modes_do_not_guard(store_dir, own_server, mode):
    ip, server = own_server
    # the socket is not an intercepted call: a recording mode says it recorded nothing
    said = pytest.warns(apirec.NothingRecordedWarning) if mode != "live" else nullcontext()
    with said, apirec.recording(store_dir, mode=mode):
        talk(ip, server.port)
    assert server.accepted == 1


def _socket_attributes():
    names = ("connect", "connect_ex", "sendto", "sendmsg", "send", "sendall", "sendfile")
    lookups = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo")
    return (
        {n: socket.socket.__dict__.get(n) for n in names},
        {n: ssl.SSLSocket.__dict__.get(n) for n in ("send", "write")},
        {n: getattr(socket, n) for n in lookups},
    )


def test_patches_are_restored_exactly_when_the_last_guard_closes(store_dir, own_server):
    ip, server = own_server
    before = _socket_attributes()
    outer = apirec.recording(store_dir, mode="replay")
    inner = apirec.recording(store_dir / "inner", mode="replay")
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)  # closed out of order: inner still guards
    with pytest.raises(apirec.NetworkBlocked) as info:
        socket.create_connection((ip, server.port), timeout=5)
    assert info.value.recording == str(store_dir / "inner")
    inner.__exit__(None, None, None)
    assert _socket_attributes() == before
    talk(ip, server.port)
    assert server.accepted == 1


def test_nested_recording_in_record_mode_does_not_open_the_network(store_dir, own_server):
    ip, server = own_server
    with apirec.recording(store_dir, mode="replay") as outer:
        with (
            pytest.raises(apirec.NetworkBlocked, match="block_network=False") as info,
            apirec.recording(store_dir / "r", mode="record"),
        ):
            socket.create_connection((ip, server.port), timeout=5)
        # unless it says so
        with (
            pytest.warns(apirec.NothingRecordedWarning),
            apirec.recording(store_dir / "r", mode="record", block_network=False),
        ):
            talk(ip, server.port)
    assert info.value.recording == str(store_dir)
    assert outer.blocked == [info.value]
    assert server.accepted == 1


def test_guard_is_thread_safe_and_reference_counted(store_dir):
    before = _socket_attributes()
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(20):
                with (
                    apirec.recording(store_dir / str(i), mode="replay"),
                    pytest.raises(apirec.NetworkBlocked),
                ):
                    socket.create_connection(("192.0.2.1", 80), timeout=5)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _socket_attributes() == before


def test_a_patch_installed_over_the_guard_is_left_in_place(store_dir, own_server):
    """Another tool patching socket while a recording is open keeps its patch; apirec's own
    wrapper under it does nothing once no guard is open, and guards again when one opens."""
    ip, server = own_server
    seen = []
    try:
        with apirec.recording(store_dir, mode="replay"):
            guarded = socket.socket.connect

            def spy(self, address):
                seen.append(address)
                return guarded(self, address)

            socket.socket.connect = spy
        assert socket.socket.connect is spy
        talk(ip, server.port)
        assert seen == [(ip, server.port)]
        with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.NetworkBlocked):
            socket.create_connection((ip, server.port), timeout=5)
        assert socket.socket.connect is spy
    finally:
        del socket.socket.connect
    assert server.accepted == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"APIREC_BLOCK_NETWORK": "off"}, (False, ())),
        (
            {"APIREC_BLOCK_NETWORK": "1", "APIREC_ALLOW_HOSTS": "a.test, 10.0.0.0/8"},
            (True, ("a.test", "10.0.0.0/8")),
        ),
        ({}, (None, ())),
    ],
)
def test_environment_is_the_layer_under_the_arguments(store_dir, monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    rec = apirec.recording(store_dir)
    assert (rec.settings.block_network, rec.settings.allow_hosts) == expected
    # arguments win over the environment
    rec = apirec.recording(store_dir, block_network=True, allow_hosts=[])
    assert (rec.settings.block_network, rec.settings.allow_hosts) == (True, ())


def test_bad_environment_value_names_the_variable(store_dir, monkeypatch):
    monkeypatch.setenv("APIREC_BLOCK_NETWORK", "maybe")
    with pytest.raises(ValueError, match="APIREC_BLOCK_NETWORK: 'maybe' is not a boolean"):
        apirec.recording(store_dir)


def test_opening_many_recordings_makes_no_new_wrappers(store_dir):
    """Each open reuses the wrappers it made before: nothing grows with the number of
    recordings a run opens (a list of every wrapper made once grew without end)."""
    from apirec.guard import core as network_guard

    def open_one():
        with apirec.recording(store_dir, mode="replay"):
            pass

    open_one()
    made = dict(network_guard._GUARD.made)
    for _ in range(50):
        open_one()
    assert network_guard._GUARD.made == made


@pytest.fixture
def without_the_runs_hold(monkeypatch):
    """This test's holds only: a replay run's hold (this suite's own plugin) set aside."""
    from apirec.guard import core

    monkeypatch.setattr(core._GUARD, "held", 0)
    with core._GUARD.lock:
        core._GUARD._sync()  # what nothing open needs comes out
    return core


def test_held_wrappers_stay_in_inert_and_come_out_at_release(
    store_dir, own_server, without_the_runs_hold
):
    core, (ip, server) = without_the_runs_hold, own_server
    before = _socket_attributes()
    core.hold()
    try:
        with apirec.recording(store_dir, mode="replay"):
            wrapped = _socket_attributes()
        assert wrapped != before
        assert _socket_attributes() == wrapped  # held: still in once the guard closed
        talk(ip, server.port)  # inert: nothing guards, the connection passes
        assert server.accepted == 1
        with apirec.recording(store_dir, mode="replay"), pytest.raises(apirec.NetworkBlocked):
            socket.create_connection((ip, server.port), timeout=5)  # and they still guard
        assert server.accepted == 1
    finally:
        core.release()
    assert _socket_attributes() == before  # restored exactly
    talk(ip, server.port)
    assert server.accepted == 2


def test_a_release_while_a_guard_is_open_keeps_what_it_needs(
    store_dir, own_server, without_the_runs_hold
):
    core, (ip, server) = without_the_runs_hold, own_server
    before = _socket_attributes()
    core.hold()
    with apirec.recording(store_dir, mode="replay"):
        core.release()
        with pytest.raises(apirec.NetworkBlocked):
            socket.create_connection((ip, server.port), timeout=5)
    assert _socket_attributes() == before
