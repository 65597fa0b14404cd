"""Shared pieces of the pytester-based plugin tests (not a test module)."""

from __future__ import annotations

import json
from pathlib import Path

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
