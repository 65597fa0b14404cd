"""SDK integrations under pytest: ``--apirec-integrations``, the ini key
``apirec_integrations`` and the marker's ``integrations=[...]`` patch the named SDKs into each
test's recording (issue 12, point 4)."""

from __future__ import annotations

import pytest

from .plugin_helpers import setup


@pytest.mark.parametrize(
    ("ini", "args", "message"),
    [
        ("", ["--apirec-integrations=openai,no-such-sdk"], "*--apirec-integrations*'no-such-sdk'*"),
        ("apirec_integrations = no-such-sdk", [], "*ini apirec_integrations*'no-such-sdk'*"),
    ],
)
def test_an_unknown_sdk_is_a_usage_error_listing_the_known_names(pytester, ini, args, message):
    setup(pytester, ini_extra=ini)
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message + "anthropic*google.genai*ollama*openai*"])


def test_an_unknown_sdk_in_the_marker_fails_that_test_naming_it(pytester):
    setup(pytester)
    pytester.makepyfile(
        test_x="import pytest\n\n"
        "@pytest.mark.apirec(integrations=['no-such-sdk'])\n"
        "def test_x():\n    pass\n"
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_x.py::test_x*'no-such-sdk'*"])
