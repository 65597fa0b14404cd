"""Shared pieces of the pytester-based plugin tests (not a test module)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import openai

from apirec.integrations.registry import KNOWN

# The inner runs are in-process, and pytester drops afterwards the modules an inner run
# imported first. apirec's SDK integrations hook an SDK's classes once per process and keep
# that in module state: were the SDK's modules (openai imports its resources lazily) or the
# integration first imported by an inner run, the next inner run would get fresh copies that
# the other's state does not match (calls keyed by HTTP instead of by method, or not
# intercepted at all), and so would the outer tests after it. Imported here, in the outer
# process, both are shared by every inner run.
for _module in sorted(set(KNOWN.values())):
    importlib.import_module(_module)
_client = openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
for _resource in ("chat.completions", "embeddings", "models", "responses", "completions"):
    _object: object = _client
    for _name in _resource.split("."):
        _object = getattr(_object, _name)
_client.close()

# hypothesis's plugin costs ~0.5 s per inner session and is not used by these inner runs.
# In-process runs find apirec already imported by this outer session (and, with the repo root
# on sys.path, its egg-info marks it for rewriting): that warning is an artefact of pytester.
INI = """
[pytest]
addopts = -p no:hypothesispytest -p no:cacheprovider
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Module already imported so cannot be rewritten; apirec:pytest.PytestAssertRewriteWarning
{extra}
"""

# A module of recorded functions the inner test files import. `calls` counts real calls, so a
# test can tell a replay (no call) from a live call.
PROVIDER = """
import apirec

calls = []

@apirec.record(name="demo.add")
def add(a, b=1):
    calls.append(("add", a, b))
    return {"sum": a + b}

@apirec.record(name="demo.ask")
async def ask(question, *, model="m1"):
    calls.append(("ask", question, model))
    return {"answer": question.upper(), "model": model}

@apirec.record(name="demo.models", shared=True)
def models():
    calls.append(("models",))
    return ["m1", "m2"]

def fetch(city):
    calls.append(("fetch", city))
    return {"city": city, "temp": len(city)}
"""


def setup(pytester, ini_extra: str = "") -> None:
    pytester.makeini(INI.format(extra=ini_extra))
    pytester.makepyfile(provider=PROVIDER)
    pytester.syspathinsert()


def stored(directory: Path) -> list[dict]:
    """Every recording in ``directory`` as parsed JSON, by file name."""
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]
