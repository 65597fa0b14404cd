"""test_context: the test id that scopes keys, and test_context(None) for "no test"."""

from __future__ import annotations

import pytest

import apirec
from apirec.record.context import current_test_id


def test_none_means_no_test_even_inside_one(request):
    assert current_test_id() == request.node.nodeid  # the plugin's own context
    with apirec.test_context(None) as inside:
        assert inside is None
        assert current_test_id() is None
        with apirec.test_context("t.py::inner"):
            assert current_test_id() == "t.py::inner"
        assert current_test_id() is None
    assert current_test_id() == request.node.nodeid


@pytest.mark.parametrize("bad", ["", 3, b"t.py::x"])
def test_a_test_id_must_be_a_non_empty_string_or_none(bad):
    message = "non-empty string test id, or None for no test"
    with pytest.raises(TypeError, match=message), apirec.test_context(bad):
        pass


async def test_a_task_started_outside_any_test_stays_outside_after_the_block():
    """A background task (a stack's periodic refresh) started under test_context(None) is
    still in no test when it runs later, during a test."""
    import asyncio

    go = asyncio.Event()
    seen: dict[str, str | None] = {}

    async def refresh(name: str) -> None:
        await go.wait()
        seen[name] = current_test_id()

    with apirec.test_context(None):
        outside = asyncio.create_task(refresh("outside"))
    with apirec.test_context("t.py::later"):
        go.set()
        await outside
    assert seen == {"outside": None}
