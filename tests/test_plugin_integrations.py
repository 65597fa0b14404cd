"""SDK integrations under pytest: ``--apirec-integrations``, the ini key
``apirec_integrations`` and the marker's ``integrations=[...]`` patch the named SDKs into each
test's recording (issue 12, point 4)."""

from __future__ import annotations

import fnmatch
import shlex

import pytest

from .plugin_helpers import INI, setup

# A test that calls the real openai SDK at the URL the outer test gives, through no patch of
# its own: only the integration named by the run can record and replay it.
CHAT = """
import os
import openai
import shlex

import pytest

{marker}
def test_chat():
    client = openai.OpenAI(base_url=os.environ["FAKE_OPENAI"], api_key="sk-test", max_retries=0)
    reply = client.chat.completions.create(
        model="m", messages=[{{"role": "user", "content": "hello there"}}]
    )
    assert reply.choices[0].message.content == "You said: hello there"
"""


@pytest.mark.parametrize(
    ("ini", "args", "marker"),
    [
        ("", ["--apirec-integrations=openai"], "@pytest.mark.apirec"),
        ("apirec_integrations = openai", [], "@pytest.mark.apirec"),
        ("", [], "@pytest.mark.apirec(integrations=['openai'])"),
        # the marker replaces the run's list
        ("apirec_integrations = ollama", [], "@pytest.mark.apirec(integrations=['openai'])"),
        # +name adds to the list it would replace
        ("apirec_integrations = ollama", ["--apirec-integrations=+openai"], "@pytest.mark.apirec"),
        ("apirec_integrations = ollama", [], "@pytest.mark.apirec(integrations=['+openai'])"),
    ],
)
def test_each_tests_recording_patches_the_named_sdks(
    pytester, monkeypatch, openai_server, ini, args, marker
):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester, ini_extra=ini)
    pytester.makepyfile(test_chat=CHAT.format(marker=marker))
    recorded = pytester.runpytest("--apirec-mode=record", *args)
    recorded.assert_outcomes(passed=1)
    served = openai_server.requests
    assert served == 1
    assert list((pytester.path / "recordings").iterdir())

    replayed = pytester.runpytest("--apirec-mode=replay", *args)
    replayed.assert_outcomes(passed=1)
    assert openai_server.requests == served  # replay reached no server
    replayed.stdout.fnmatch_lines(["apirec: 1 replayed, 0 recorded*"])


def test_an_empty_integrations_option_clears_the_ini_list(pytester, monkeypatch, openai_server):
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester, ini_extra="apirec_integrations = openai")
    pytester.makepyfile(test_chat=CHAT.format(marker="@pytest.mark.apirec"))
    # was: the empty value was no name, so the ini's openai was patched and recorded
    ran = pytester.runpytest("--apirec-mode=record", "--apirec-integrations=")
    ran.assert_outcomes(passed=1, errors=1)  # the run's warnings are errors (plugin_helpers)
    ran.stdout.fnmatch_lines(["*test_chat.py::test_chat intercepted no call in record mode*"])
    assert openai_server.requests == 1  # the call went out, unpatched: nothing recorded
    recordings = pytester.path / "recordings"
    assert not recordings.exists() or not list(recordings.iterdir())
    # +name after it adds to the empty list, not to the ini's
    ran = pytester.runpytest(
        "--apirec-mode=record", "--apirec-integrations=", "--apirec-integrations=+openai"
    )
    ran.assert_outcomes(passed=1)
    assert list(recordings.iterdir())


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


@pytest.mark.parametrize(
    ("where", "args", "says"),
    [
        ("command line", ["--apirec-integrations=opnai"], "--apirec-integrations: *'opnai'"),
        ("ini", ["-o", "apirec_integrations=OpenAI"], "ini apirec_integrations: *'OpenAI'"),
        ("marker", [], "*on test_x.py::test_x: *'google-genai'"),
    ],
)
def test_a_misspelled_sdk_is_unknown_not_missing_and_the_right_name_is_suggested(
    pytester, where, args, says
):
    # was: "'opnai' is not installed (pip install it)", which invites a pip install of a typo
    setup(pytester)
    marker = "@pytest.mark.apirec(integrations=['google-genai'])\n" if where == "marker" else ""
    pytester.makepyfile(test_x=f"import pytest\n\n{marker}def test_x():\n    pass\n")
    result = pytester.runpytest(*args)
    output = result.stdout.str() + result.stderr.str()
    suggested = "'google.genai'" if where == "marker" else "'openai'"
    assert fnmatch.fnmatch(
        output, f"*{says} is not an SDK apirec knows (did you mean {suggested}?)*"
    )
    assert "not installed" not in output and "pip install" not in output


def test_a_known_sdk_that_is_not_installed_says_so(pytester):
    setup(pytester)
    # cohere made unimportable in the run's process, as in an environment without it
    pytester.makeconftest("import sys\nsys.modules['cohere'] = None\n")
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("--apirec-integrations=cohere")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--apirec-integrations: *'cohere' is an SDK apirec patches, but it is not installed*"]
    )


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


NAMES_SEEN = """
from apirec.pytest.integrations import NAMES

def test_names(request):
    print("NAMES=" + ",".join(request.config.stash[NAMES]))
"""


@pytest.mark.parametrize(
    ("args", "names"),
    [
        ([], "openai,ollama"),
        (["--apirec-integrations=mcp"], "mcp"),  # pytest's rule: the command line replaces
        (["--apirec-integrations=+mcp"], "openai,ollama,mcp"),
        (["--apirec-integrations=+mcp", "--apirec-integrations=+openai"], "openai,ollama,mcp"),
        (["--apirec-integrations=tavily,+mcp"], "tavily,mcp"),
    ],
)
def test_the_command_line_replaces_the_ini_list_and_plus_adds_to_it(pytester, args, names):
    setup(pytester, ini_extra="apirec_integrations = openai\n    ollama")
    pytester.makepyfile(test_names=NAMES_SEEN)
    result = pytester.runpytest("-s", *args)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*NAMES={names}"])


def test_help_says_the_command_line_replaces_the_ini_list(pytester):
    setup(pytester)
    result = pytester.runpytest("--help")
    text = " ".join(result.stdout.str().split())  # as wrapped to any terminal's width
    assert "replaces the ini list apirec_integrations (an empty value: with none)" in text


def test_a_lone_plus_is_a_usage_error(pytester):
    setup(pytester)
    pytester.makepyfile(test_names=NAMES_SEEN)
    result = pytester.runpytest("--apirec-integrations=+")
    result.stderr.fnmatch_lines(["*--apirec-integrations*'+' must be followed*"])


@pytest.mark.parametrize(
    ("ini", "args"),
    [
        ("", ["--apirec-integrations=openai"]),
        ("apirec_integrations = ollama", ["--apirec-integrations=+openai"]),
        ("", ["-o", "apirec_integrations=openai", "-o", "apirec_dir=elsewhere"]),
        # another ini file: its list, not tox.ini's (which names none)
        ("", ["-c", "alt.ini", "--rootdir", "."]),
    ],
)
def test_the_printed_record_command_carries_the_runs_integrations_and_store(
    pytester, monkeypatch, openai_server, ini, args
):
    """Issue 20 point 9: the command a miss prints, pasted, patches the same SDKs and writes
    the same store as the run that missed (without them the call went out unrecorded)."""
    monkeypatch.setenv("FAKE_OPENAI", openai_server.base_url)
    setup(pytester, ini_extra=ini)
    pytester.makepyfile(test_chat=CHAT.format(marker="@pytest.mark.apirec"))
    alt = INI.format(extra="apirec_integrations = openai\napirec_dir = alt")
    (pytester.path / "alt.ini").write_text(alt)
    missed = pytester.runpytest("--apirec-mode=replay", *args)
    missed.assert_outcomes(failed=1)
    lines = missed.stdout.lines
    printed = lines[lines.index(next(x for x in lines if x.endswith("To record it, run:"))) + 1]
    command = printed.removeprefix("E").strip()
    assert command.startswith("pytest test_chat.py::test_chat --apirec-mode=record-if-missing")
    assert openai_server.requests == 0

    pytester.runpytest(*shlex.split(command)[1:]).assert_outcomes(passed=1)
    assert openai_server.requests == 1  # recorded: the call went through the integration
    replayed = pytester.runpytest("--apirec-mode=replay", *args)
    replayed.assert_outcomes(passed=1)
    replayed.stdout.fnmatch_lines(["apirec: 1 replayed, 0 recorded*"])
    assert openai_server.requests == 1
