from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

# pytester's in-process runs drop the modules first imported inside them when they end; the
# SDK hooks apirec installs once per process would then outlive their module (its copy
# imported afresh by a later test would find the SDK hooked already): imported here first
import apirec.integrations.stainless
import apirec.pytest.plugin  # noqa: F401  (loaded on first use by the plugin's start-up)
from tests.anthropic_server import AnthropicServer
from tests.openai_server import OpenAIServer
from tests.paths import LLAMA_STACK
from tests.s3_server import s3_server  # noqa: F401  (a fixture; moto is imported when used)

pytest_plugins = ["pytester"]

FIXTURES = LLAMA_STACK


@pytest.fixture
def fixtures_dir() -> Path:
    assert FIXTURES.is_dir(), f"fixture recordings not found at {FIXTURES}"
    return FIXTURES


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    path = tmp_path / "recordings"
    path.mkdir()
    return path


@pytest.fixture(autouse=True)
def _no_mode_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's APIREC_MODE must not change what the suite tests.
    monkeypatch.delenv("APIREC_MODE", raising=False)
    monkeypatch.delenv("APIREC_MAX_AGE", raising=False)
    monkeypatch.delenv("APIREC_EXPIRED", raising=False)
    monkeypatch.delenv("APIREC_REPEATS", raising=False)
    monkeypatch.delenv("APIREC_REMOTE", raising=False)
    monkeypatch.delenv("APIREC_REPLAY_TIMING", raising=False)
    monkeypatch.delenv("APIREC_RECORD_BUDGET", raising=False)
    monkeypatch.delenv("APIREC_RECORD_BUDGET_SPENT", raising=False)
    monkeypatch.delenv("APIREC_PRICES", raising=False)


# -- the local OpenAI-compatible server (issue 3) -------------------------------------------


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A local OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py); ``stop()`` it
    to prove that replay never reaches it."""
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A local Anthropic-compatible server on 127.0.0.1 (tests/anthropic_server.py), its
    ``base_url`` without ``/v1`` as the anthropic client wants it."""
    server = AnthropicServer().start()
    server.base_url = server.base_url.removesuffix("/v1")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def make_client():
    """Makes real openai clients of any base URL (no retries), closed afterwards."""
    import openai

    made = []

    def make(base_url: str, *, is_async: bool = True):
        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        made.append(cls(base_url=base_url, api_key="sk-test", max_retries=0))
        return made[-1]

    yield make
    for client in made:
        if isinstance(client, openai.AsyncOpenAI):
            await client.close()
        else:
            client.close()


@pytest.fixture
def closed_url() -> str:
    """A base URL where nothing listens: a replay that tried the network would fail."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def own_address() -> Iterator[str]:
    """This machine's own non-loopback IPv4 address (connections to it stay on the machine)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # UDP connect: picks a route, sends nothing
        address = probe.getsockname()[0]
    except OSError:
        pytest.skip("this machine has no non-loopback IPv4 address")
    finally:
        probe.close()
    if address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    yield address
