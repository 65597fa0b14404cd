"""Run the stand-in APIs (examples/stand_ins/api.py) in a thread while a doc example records.

Each example records against the stand-in, then replays with it stopped and the network
closed, as a user's suite would replay what it recorded from the real service.
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

_API = Path(__file__).resolve().parent.parent / "stand_ins" / "api.py"


def _app() -> object:
    spec = importlib.util.spec_from_file_location("stand_in_api", _API)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


@contextmanager
def stand_in() -> Iterator[str]:
    """The stand-in's URL, with the SDKs' base URL and key variables pointing at it."""
    server = uvicorn.Server(
        uvicorn.Config(_app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    env = {
        "OPENAI_BASE_URL": f"{url}/v1",
        "OPENAI_API_KEY": "sk-example-key-for-the-stand-in",
        "ANTHROPIC_BASE_URL": url,
        "ANTHROPIC_API_KEY": "sk-ant-example",
        "GROQ_BASE_URL": url,
        "GROQ_API_KEY": "gsk-example",
        "OLLAMA_HOST": url,
        "GOOGLE_GEMINI_BASE_URL": url,
        "GOOGLE_API_KEY": "example-google-key",
        "TAVILY_API_KEY": "tvly-example",
        "MISTRAL_API_KEY": "mistral-example",
        "CO_API_URL": url,
        "CO_API_KEY": "co-example",
    }
    before = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield url
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.should_exit = True
        thread.join(timeout=10)
