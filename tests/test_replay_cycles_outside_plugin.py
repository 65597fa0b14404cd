"""A closed recording leaves no reference cycle, checked where the check can fail: in a child
Python without the pytest plugin, which keeps every recording a test opened until the test
ends (so inside a test no cycle of it is ever garbage yet).

Covers streams read to the end and, on later replays (``repeats="last"``), streams broken out
of or never read: each unused chunk's callable once held its ``LazyPlans`` in a cycle.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[1])  # the child imports tests.test_streams
HELPER = """
import asyncio
import gc
import json
import sys

import apirec
from tests.test_streams import chunk


@apirec.record
def words(n):
    return iter([chunk(i) for i in range(n)])


@apirec.record
async def awords(n):
    for i in range(n):
        yield chunk(i)


def garbage(run):
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        return sorted(
            {
                f"{type(o).__module__}.{type(o).__qualname__}"
                for o in gc.garbage
                if type(o).__module__.startswith("apirec")
            }
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
"""


def garbage_of(tmp_path, body: str) -> list[str]:
    """Record ``words(4)`` and ``awords(3)``, then the apirec garbage of ``replay()``, defined
    by ``body``, in a Python without the pytest plugin."""
    (tmp_path / "adv19_cycles_helper.py").write_text(HELPER)
    store = tmp_path / "recordings"
    script = (
        textwrap.dedent(
            """
        import asyncio, json, sys
        from adv19_cycles_helper import *

        STORE = sys.argv[1]
        with apirec.recording(STORE, mode="record"):
            assert len(list(words(4))) == 4

            async def drain():
                return [c async for c in awords(3)]

            assert len(asyncio.run(drain())) == 3
        garbage(lambda: None)  # what recording left, not counted
        """
        )
        + textwrap.dedent(body)
        + "\nprint(json.dumps(garbage(replay)))\n"
    )
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    done = subprocess.run(
        [sys.executable, "-c", script, str(store)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT, *paths])},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("times", [1, 3])
def test_a_stream_read_to_its_end_leaves_no_cycle_outside_the_plugin(tmp_path, times):
    body = f"""
    def replay():
        with apirec.recording(STORE, mode="replay", repeats="last"):
            for _ in range({times}):
                assert [c.choices[0].delta.content for c in words(4)] == ["w0", "w1", "w2", "w3"]
    """
    assert garbage_of(tmp_path, body) == []


def test_a_later_replay_broken_out_of_leaves_no_cycle(tmp_path):
    body = """
    def replay():
        with apirec.recording(STORE, mode="replay", repeats="last"):
            for _ in range(2):
                for c in words(4):
                    assert c.choices[0].delta.content == "w0"
                    break
    """
    assert garbage_of(tmp_path, body) == []


def test_a_later_async_replay_broken_out_of_leaves_no_cycle(tmp_path):
    body = """
    def replay():
        async def go():
            with apirec.recording(STORE, mode="replay", repeats="last"):
                for _ in range(2):
                    async for c in awords(3):
                        break
        asyncio.run(go())
    """
    assert garbage_of(tmp_path, body) == []


def test_a_later_replay_never_read_leaves_no_cycle(tmp_path):
    body = """
    def replay():
        with apirec.recording(STORE, mode="replay", repeats="last"):
            assert len(list(words(4))) == 4
            words(4)  # asked for again, never read (the test only checked it was a stream)
    """
    assert garbage_of(tmp_path, body) == []
