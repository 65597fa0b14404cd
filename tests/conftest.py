from __future__ import annotations

from collections.abc import Iterator

import pytest

from openai_server import OpenAIServer


@pytest.fixture
def openai_server() -> Iterator[OpenAIServer]:
    """A local OpenAI-compatible server on 127.0.0.1 (tests/openai_server.py); stop() it to
    prove that replay never reaches it."""
    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
