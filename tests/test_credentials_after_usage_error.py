"""A run the plugin stops with a usage error leaves no placeholder API key behind.

pytest calls no ``pytest_unconfigure`` for a ``pytest_configure`` that raised, so keys the
plugin set before the error outlived the run: a longer-lived process (``pytest.main``, an
inline pytester run) went on with ``OPENAI_API_KEY`` holding the placeholder. The keys are
now set after everything in the plugin's configure that can raise.
"""

from __future__ import annotations

import sys


def test_a_run_stopped_by_a_usage_error_leaves_no_placeholder(pytester, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    pytester.makeini("[pytest]\napirec_integrations = openai\n")
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    pytester.mkdir("report")  # --apirec-compare-report must name a file: a usage error
    pytester.makepyfile(
        run_it="""
        import os

        import pytest

        code = pytest.main(["-p", "no:cacheprovider", "--apirec-compare-report=report"])
        assert code == pytest.ExitCode.USAGE_ERROR
        print("key:", os.environ.get("OPENAI_API_KEY"))
        """
    )
    result = pytester.run(sys.executable, "run_it.py")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["key: None"])
