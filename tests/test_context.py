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
