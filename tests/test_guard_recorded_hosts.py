"""A replay blocks the servers its recordings were recorded against, loopback included
(issue 17, point 10): an SDK pointed at a local model server (Ollama on 11434, vLLM, LM Studio)
must not reach it on replay through an entry point nobody patched.

The servers are the loopback fakes of tests/; ``requests`` counts what each served, so a test
shows that the replay reached nothing.
"""

from __future__ import annotations

import json
import socket

import httpx
import ollama
import openai
import pytest

import apirec
from apirec import integrations
from apirec.guard.hosts import ephemeral_ports
from apirec.record.recorded_hosts import recorded_hosts
from apirec.stores.json_store import JsonStore
from tests.ollama_server import OllamaServer
from tests.openai_server import OpenAIServer
from tests.paths import LLAMA_STACK

HI = [{"role": "user", "content": "llamas eat grass"}]
CREATE = "openai.resources.chat.completions.Completions.create"


@pytest.fixture
def fake_ollama():
    server = OllamaServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ollama_client(fake_ollama):
    client = ollama.Client(host=fake_ollama.url)
    yield client
    client._client.close()


@pytest.fixture
def fake_openai():
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


def _origins(store_dir):
    return {json.loads(p.read_text()).get("origin") for p in store_dir.glob("*.json")}


def test_a_local_ollama_server_is_not_reached_on_replay(store_dir, fake_ollama, ollama_client):
    """Recorded with the ollama SDK against Ollama on loopback; on replay, code that talks to
    the same server past the patches (here through the client's own HTTP client) is blocked,
    while the patched call replays."""
    client = ollama_client
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        recorded = client.chat(model="llama3", messages=HI)
    assert _origins(store_dir) == {fake_ollama.url}
    served = fake_ollama.requests
    client = ollama.Client(host=fake_ollama.url)  # a new test's client: a new connection
    with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, "ollama")
        assert client.chat(model="llama3", messages=HI).message == recorded.message
        with pytest.raises(httpx.ConnectError):
            client._client.post("/api/chat", json={"model": "llama3", "messages": HI})
    client._client.close()
    [blocked] = rec.blocked
    assert (blocked.host, blocked.port) == ("127.0.0.1", int(fake_ollama.url.rsplit(":", 1)[1]))
    assert "recorded against" in str(blocked)
    assert fake_ollama.requests == served


def test_an_openai_client_against_a_loopback_server_through_an_unpatched_method(
    store_dir, fake_openai, make_client
):
    """Recorded through rec.patch of one method; ``.parse()`` was not patched."""
    client = make_client(fake_openai.base_url, is_async=False)
    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch(CREATE, name="openai.chat")
        client.chat.completions.create(model="gpt-test", messages=HI)
    served = fake_openai.requests
    client = make_client(fake_openai.base_url, is_async=False)  # a new test's client
    with apirec.recording(store_dir, mode="replay") as rec:
        rec.patch(CREATE, name="openai.chat")
        client.chat.completions.create(model="gpt-test", messages=HI)  # replayed
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.parse(model="gpt-test", messages=HI)
    assert rec.blocked[0].port == fake_openai.port
    assert fake_openai.requests == served


@pytest.mark.parametrize("allowed", ["localhost", "127.0.0.1", "127.0.0.0/8"])
def test_allow_hosts_wins_over_the_recorded_hosts(store_dir, fake_openai, make_client, allowed):
    client = make_client(fake_openai.base_url, is_async=False)
    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch(CREATE, name="openai.chat")
        client.chat.completions.create(model="gpt-test", messages=HI)
    with apirec.recording(store_dir, mode="replay", allow_hosts=[allowed]) as rec:
        assert len(client.models.list().data) == 2
    assert rec.blocked == []


def test_other_loopback_servers_still_answer(store_dir, fake_openai, ollama_client, make_client):
    client = ollama_client
    with apirec.recording(store_dir, mode="record") as rec:
        integrations.patch(rec, "ollama")
        client.chat(model="llama3", messages=HI)
    other = make_client(fake_openai.base_url, is_async=False)
    with apirec.recording(store_dir, mode="replay") as rec:
        assert len(other.models.list().data) == 2  # a server this store was not recorded against
    assert rec.blocked == []


def test_other_recorders_urls_count_too():
    """llama-stack's recordings store each request's URL: its local servers are learned."""
    hosts = recorded_hosts(JsonStore(LLAMA_STACK / "sample" / "inference" / "recordings"))
    assert hosts.local_ports == {11434, 8000}  # 0.0.0.0:11434, localhost:11434, localhost:8000
    assert ("api.openai.com", 443) in hosts.hosts


def test_the_store_is_read_only_when_a_loopback_connection_is_judged(
    store_dir, fake_openai, make_client, monkeypatch
):
    """Opening a replay reads no recording for the guard; the first loopback connection reads
    the store once, and later recordings on the unchanged store read nothing again."""
    client = make_client(fake_openai.base_url, is_async=False)
    with apirec.recording(store_dir, mode="record") as rec:
        rec.patch(CREATE, name="openai.chat")
        for n in range(3):
            client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": str(n)}]
            )
    client = make_client(fake_openai.base_url, is_async=False)  # new connections
    reads = []
    real_read = JsonStore.read

    def counting_read(self, key, index, **kwargs):
        reads.append(key)
        return real_read(self, key, index, **kwargs)

    monkeypatch.setattr(JsonStore, "read", counting_read)
    with apirec.recording(store_dir, mode="replay"):
        pass
    assert reads == []
    for _ in range(2):
        with apirec.recording(store_dir, mode="replay"), pytest.raises(openai.APIConnectionError):
            client.models.list()
    assert len(reads) == 3


class LocalModel:
    """A client of a local model server, as a wrapper library has one."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @apirec.record(name="local.ask")
    def ask(self, question: str) -> dict:
        return {"answer": question.upper()}


def _listener(port: int = 0) -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", port))
    server.listen()
    return server


def _fixed_port() -> socket.socket:
    """A listener on a port the system never gives a client (as Ollama's 11434, vLLM's 8000)."""
    ephemeral = ephemeral_ports()
    for port in range(20000, 30000, 7):
        if port in ephemeral:
            continue
        try:
            return _listener(port)
        except OSError:
            continue
    pytest.skip("no free port outside the ephemeral range")


def test_a_kept_connection_to_a_recorded_server_on_a_fixed_port_cannot_send(store_dir):
    server = _fixed_port()
    port = server.getsockname()[1]
    model = LocalModel(f"http://localhost:{port}")
    with apirec.recording(store_dir, mode="record"):
        model.ask("hi")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as kept,
        apirec.recording(store_dir, mode="replay") as rec,
    ):
        assert model.ask("hi") == {"answer": "HI"}
        with pytest.raises(apirec.NetworkBlocked):
            kept.sendall(b"POST /api/chat HTTP/1.1\r\n\r\n")
    server.close()
    assert (rec.blocked[0].action, rec.blocked[0].port) == ("send", port)


def test_a_recorded_port_the_system_gave_a_client_is_not_mistaken_for_the_server(store_dir):
    """A fake bound to port 0 was recorded against; its port is now a client's: an in-process
    server's replies to that client are not requests to the recorded server."""
    recorded = _listener()
    port = recorded.getsockname()[1]
    assert port in ephemeral_ports()
    model = LocalModel(f"http://127.0.0.1:{port}")
    with apirec.recording(store_dir, mode="record"):
        model.ask("hi")
    recorded.close()
    other = _listener()
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    client.bind(("127.0.0.1", port))  # the client end gets the recorded port
    client.connect(other.getsockname())
    accepted, _ = other.accept()
    with accepted, client, other, apirec.recording(store_dir, mode="replay") as rec:
        accepted.sendall(b"a reply")  # the server's end: its peer is the recorded port
        assert client.recv(7) == b"a reply"
        with pytest.raises(apirec.NetworkBlocked):  # a new connection to it is judged
            socket.create_connection(("127.0.0.1", port), timeout=5)
    assert [b.action for b in rec.blocked] == ["connect"]
