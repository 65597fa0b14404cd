from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.openai_server import OpenAIServer

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures" / "llama_stack"


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
