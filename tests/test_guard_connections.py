"""The guard covers what leaves on connections opened before the replay began (issue 17,
point 6) and every kind of lookup (point 7).

The servers listen on 0.0.0.0 and are reached at this machine's own non-loopback address
(``own_address``): to the guard a remote host, while nothing leaves the machine. A client whose
pool connected before the replay began keeps that connection: only judging what is sent on it
stops the request. Lookups go to a fake resolver installed under the guard, which counts what
reached it: nothing under replay.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import tempfile
import threading

import httpx
import openai
import pytest

import apirec
from tests.openai_server import OpenAIServer

MESSAGES = [{"role": "user", "content": "hi"}]
CREATE = "openai.resources.chat.completions.{}Completions.create"


@pytest.fixture
def remote_server(own_address):
    """The OpenAI fake, reached at this machine's non-loopback address: ``(server, base_url)``."""
    server = OpenAIServer(host="0.0.0.0").start()
    try:
        yield server, f"http://{own_address}:{server.port}/v1"
    finally:
        server.stop()


def _blocked_in(error: BaseException | None) -> apirec.NetworkBlocked | None:
    while error is not None:
        if isinstance(error, apirec.NetworkBlocked):
            return error
        error = error.__cause__ or error.__context__
    return None


# -- point 6: sends on connections opened before the replay --------------------------------------


@pytest.mark.parametrize("how", ["send", "sendall", "sendmsg", "sendfile"])
def test_every_send_on_a_socket_connected_before_the_replay_is_blocked(
    store_dir, remote_server, own_address, how
):
    server, _ = remote_server
    with socket.create_connection((own_address, server.port), timeout=5) as sock:
        request = b"GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
        with (
            apirec.recording(store_dir, mode="replay") as rec,
            pytest.raises(apirec.NetworkBlocked) as info,
        ):
            if how == "sendmsg":
                sock.sendmsg([request])
            elif how == "sendfile":
                with tempfile.TemporaryFile() as f:
                    f.write(request)
                    f.seek(0)
                    sock.sendfile(f)
            else:
                getattr(sock, how)(request)
        assert (info.value.host, info.value.port) == (own_address, server.port)
        assert info.value.action == "send"
        assert "data sent to" in str(info.value)
        assert rec.blocked == [info.value]
        assert sock.recv(1) == b""  # the guard ended the connection: nothing waits on it
    assert server.requests == 0


@pytest.fixture
def tls_server(own_address, tmp_path):
    """A TLS server at this machine's address (a fresh self-signed certificate) that reads
    one connection: ``(client context, address, what it received, its thread)``."""
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apirec-test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    listener = socket.create_server(("0.0.0.0", 0))
    received: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with server_context.wrap_socket(conn, server_side=True) as tls:
            while data := tls.recv(100):
                received.append(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=tmp_path / "cert.pem")
    client_context.check_hostname = False
    yield client_context, (own_address, listener.getsockname()[1]), received, thread
    thread.join(timeout=5)
    listener.close()


@pytest.mark.parametrize("how", ["sendall", "send", "write", "sendfile"])
def test_tls_sends_on_a_connection_opened_before_the_replay_are_blocked(store_dir, tls_server, how):
    context, address, received, server = tls_server
    with context.wrap_socket(socket.create_connection(address, timeout=5)) as tls:
        tls.sendall(b"before")
        with (
            apirec.recording(store_dir, mode="replay") as rec,
            pytest.raises(apirec.NetworkBlocked),
        ):
            if how == "sendfile":
                with tempfile.TemporaryFile() as f:
                    f.write(b"during")
                    f.seek(0)
                    tls.sendfile(f)
            else:
                getattr(tls, how)(b"during")
    assert rec.blocked[0].action == "send"
    server.join(timeout=5)  # it has read all there was: the connection ended
    assert b"".join(received) == b"before"


def test_a_keep_alive_httpx_client_cannot_reuse_its_connection(store_dir, remote_server):
    server, base_url = remote_server
    with httpx.Client(base_url=base_url) as client:
        assert client.get("/models").status_code == 200  # the pool keeps the connection
        # httpcore reads a reply after a failed write (servers may answer early), so its
        # error is "disconnected", not the cause: the recording (and the pytest plugin's
        # teardown check) knows; the guard ended the connection, so no timeout is waited
        with (
            apirec.recording(store_dir, mode="replay") as rec,
            pytest.raises(httpx.TransportError),
        ):
            client.get("/models", timeout=30)
        [blocked] = rec.blocked
        assert (blocked.action, blocked.port) == ("send", server.port)
        assert client.get("/models").status_code == 200  # after the replay: a new connection
    assert server.requests == 2


async def test_a_keep_alive_async_client_cannot_reuse_its_connection(store_dir, remote_server):
    """asyncio's transports send through the socket class, which the guard wraps."""
    server, base_url = remote_server
    async with httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.get("/models")).status_code == 200
        async with apirec.recording(store_dir, mode="replay") as rec:
            with pytest.raises(httpx.TransportError) as info:
                await asyncio.wait_for(client.get("/models"), 10)
        assert _blocked_in(info.value) is rec.blocked[0]
    assert server.requests == 1


@pytest.mark.parametrize("is_async", [False, True])
async def test_a_module_level_openai_client_warmed_up_before_the_replay(
    store_dir, remote_server, make_client, is_async
):
    """A client made at import (its pool warmed by an earlier test) and an entry point the
    recording did not patch (``.parse()``): the request on the kept connection is blocked."""
    server, base_url = remote_server
    client = make_client(base_url, is_async=is_async)
    warm = client.models.list()
    assert len((await warm if is_async else warm).data) == 2
    async with apirec.recording(store_dir, mode="replay") as rec:
        rec.patch(CREATE.format("Async" if is_async else ""), name="openai.chat")
        with pytest.raises(openai.APIConnectionError):
            reply = client.chat.completions.parse(model="gpt-test", messages=MESSAGES)
            await reply if is_async else reply
    assert rec.blocked[0].action == "send"
    assert server.requests == 1


def test_sends_to_loopback_and_allowed_hosts_pass(store_dir, remote_server, own_address):
    server, base_url = remote_server
    with httpx.Client(base_url=base_url) as client:
        client.get("/models")
        with apirec.recording(store_dir, mode="replay", allow_hosts=[own_address]) as rec:
            assert client.get("/models").status_code == 200
    local = OpenAIServer().start()
    try:
        with httpx.Client(base_url=local.base_url) as client:
            client.get("/models")
            with apirec.recording(store_dir, mode="replay"):
                assert client.get("/models").status_code == 200
    finally:
        local.stop()
    assert rec.blocked == []
    assert (server.requests, local.requests) == (2, 2)


# -- point 7: every lookup ------------------------------------------------------------------------


@pytest.fixture
def resolver(monkeypatch):
    """Fake resolver functions in ``socket``, under the guard: what reached them."""
    reached: list[tuple[str, object]] = []

    def fake(name, answer):
        def lookup(*args):
            reached.append((name, args[0]))
            return answer

        monkeypatch.setattr(socket, name, lookup)

    fake("gethostbyname", "192.0.2.7")
    fake("gethostbyname_ex", ("api.example.test", [], ["192.0.2.7"]))
    fake("gethostbyaddr", ("api.example.test", [], ["192.0.2.7"]))
    fake("getnameinfo", ("api.example.test", "https"))
    return reached


LOOKUPS = [
    ("gethostbyname", ("api.example.test",)),
    ("gethostbyname_ex", ("api.example.test",)),
    ("gethostbyaddr", ("192.0.2.7",)),
    ("gethostbyaddr", ("api.example.test",)),
    ("getnameinfo", (("192.0.2.7", 443), 0)),
]


@pytest.mark.parametrize(("name", "args"), LOOKUPS)
def test_every_lookup_is_judged_before_it_reaches_the_resolver(store_dir, resolver, name, args):
    with (
        apirec.recording(store_dir, mode="replay") as rec,
        pytest.raises(apirec.NetworkBlocked) as info,
    ):
        getattr(socket, name)(*args)
    assert resolver == []
    assert info.value.action == "resolve"
    assert rec.blocked == [info.value]
    getattr(socket, name)(*args)  # after the replay: the resolver is asked
    assert [n for n, _ in resolver] == [name]


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("gethostbyname", ("localhost",)),
        ("gethostbyname", ("192.0.2.7",)),  # an address: no lookup
        ("gethostbyaddr", ("127.0.0.1",)),
        ("getnameinfo", (("192.0.2.7", 443), socket.NI_NUMERICHOST)),
        ("getnameinfo", (("127.0.0.1", 443), 0)),
    ],
)
def test_lookups_that_ask_no_one_outside_pass(store_dir, resolver, name, args):
    with apirec.recording(store_dir, mode="replay") as rec:
        getattr(socket, name)(*args)
    assert [n for n, _ in resolver] == [name]
    assert rec.blocked == []


def test_a_listed_name_resolves_and_its_address_is_let_through(
    store_dir, remote_server, own_address, monkeypatch
):
    """gethostbyname of a listed name: the address it gave is let through, as getaddrinfo's."""
    server, _ = remote_server
    monkeypatch.setattr(socket, "gethostbyname", lambda name: own_address)  # /etc/hosts, say
    with apirec.recording(store_dir, mode="replay", allow_hosts=["llm.internal.test"]) as rec:
        address = socket.gethostbyname("llm.internal.test")
        with socket.create_connection((address, server.port), timeout=5):
            pass
    assert rec.blocked == []
