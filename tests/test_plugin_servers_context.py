"""the plugin's miss report is filed by the test id a request
carried, but collected at teardown by the node id, so a request sent under any other test
id (``apirec.test_context(...)`` inside the test) loses its miss silently."""

from __future__ import annotations

import pytest

from tests.test_plugin_servers import project  # noqa: F401  (the fixture)


def test_a_miss_sent_under_a_test_context_of_the_test_still_fails_it(
    project: pytest.Pytester,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVER_MODE", "replay")  # nothing recorded: every call misses
    project.makepyfile(
        test_it="""
import httpx
import apirec

def test_scoped(server):
    # a test that scopes part of its calls itself (docs: test_context is public API)
    with apirec.test_context("test_it.py::test_scoped[phase-2]"):
        assert httpx.get(server + "/ask-swallowed?q=one").json() == {"answer": "fallback"}

def test_after(server):
    assert httpx.get(server + "/sync").status_code == 200
"""
    )
    result = project.runpytest_subprocess()
    # the server missed while serving test_scoped's request: it must fail (docs/servers.md:
    # "the test fails at teardown with the server's miss message, whatever the test did")
    result.assert_outcomes(passed=2, errors=1)
