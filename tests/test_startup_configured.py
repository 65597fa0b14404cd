"""A run configured only by the common recording settings (ini ``apirec_mode``,
``apirec_integrations``, ``apirec_dir``, ``apirec_store``; ``APIREC_MODE``, ``APIREC_DIR``,
``APIREC_STORE``) loads the full plugin on first use, as an unconfigured run does; its usage
errors and a replaying run's placeholder keys still come at start.

Found by benchmarks/startup.py: such a run loaded the recorder, codec and pydantic at
configure (~+140 ms of CPU on every run, also one that never uses a recording).
"""

from __future__ import annotations

import pytest

CONFIGURED = "[pytest]\napirec_integrations = openai\napirec_mode = replay\n"

LOADED_AT_END = """
import sys

def pytest_unconfigure(config):
    loaded = [m for m in ("apirec.pytest.plugin", "apirec.record.recording") if m in sys.modules]
    print("APIREC-LOADED", loaded)
"""


@pytest.fixture
def no_keys(monkeypatch):
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("APIREC_MODE", "APIREC_DIR", "APIREC_STORE", "APIREC_INTEGRATIONS"):
        monkeypatch.delenv(name, raising=False)


def test_a_plain_test_of_a_configured_run_loads_no_recorder(pytester, no_keys):
    pytester.makeini(CONFIGURED)
    pytester.makeconftest(LOADED_AT_END)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-s")
    result.assert_outcomes(passed=1)
    assert "APIREC-LOADED []" in result.stdout.lines


def test_the_environment_settings_leave_it_lazy_too(pytester, no_keys, monkeypatch):
    monkeypatch.setenv("APIREC_MODE", "replay")
    monkeypatch.setenv("APIREC_DIR", "recs")
    monkeypatch.setenv("APIREC_STORE", "json")
    pytester.makeini("[pytest]\napirec_integrations = openai\napirec_store = json\n")
    pytester.makeconftest(LOADED_AT_END)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-s")
    result.assert_outcomes(passed=1)
    assert "APIREC-LOADED []" in result.stdout.lines


def test_another_setting_still_loads_the_plugin_at_configure(pytester, no_keys):
    pytester.makeini(CONFIGURED + "apirec_strict = true\n")
    pytester.makeconftest(LOADED_AT_END)
    pytester.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["APIREC-LOADED *apirec.pytest.plugin*"])


@pytest.mark.parametrize(
    ("ini", "said"),
    [
        (
            "apirec_mode = replya\n",
            "*'replya' is not a valid record mode (ini apirec_mode)*",
        ),
        (
            "apirec_store = yaml\n",
            "*ini apirec_store: 'yaml' is not a valid store. Valid stores are: json, msgpack*",
        ),
        (
            "apirec_integrations = opnai\n",
            "*ini apirec_integrations: apirec.integrations: 'opnai' is not an SDK apirec knows "
            "(did you mean 'openai'?)*",
        ),
    ],
)
def test_a_bad_common_setting_is_a_usage_error_at_start(pytester, no_keys, ini, said):
    pytester.makeini("[pytest]\n" + ini)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([said])


def test_a_bad_name_leaves_no_placeholder_set(pytester, no_keys):
    """The names are all checked before any key is held: a usage error leaves none."""
    pytester.makeini("[pytest]\napirec_integrations = openai, opnai\n")
    pytester.makeconftest(
        "import os\n\ndef pytest_unconfigure(config):\n"
        "    print('KEY-AT-END', os.environ.get('OPENAI_API_KEY'))\n"
    )
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "apirec-replay-placeholder" not in result.stdout.str()


CHILD = """
import os
import subprocess
import sys

def test_child_inherits_the_placeholder():
    code = "import os; print(os.environ.get('OPENAI_API_KEY'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "apirec-replay-placeholder", done.stderr[-400:]
"""


def test_a_child_process_inherits_the_placeholder_of_a_lazy_run(pytester, no_keys):
    pytester.makeini(CONFIGURED)
    pytester.makeconftest(LOADED_AT_END)
    pytester.makepyfile(test_child=CHILD)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-s")
    result.assert_outcomes(passed=1)
    assert "APIREC-LOADED []" in result.stdout.lines


USES_A_RECORDING = """
import os
import apirec

def test_plain():
    assert os.environ["OPENAI_API_KEY"] == "apirec-replay-placeholder"

def test_recorded(apirec):
    assert os.environ["OPENAI_API_KEY"] == "apirec-replay-placeholder"
"""


def test_the_plugin_loaded_later_holds_the_keys_once_and_lets_go(pytester, no_keys):
    """The start-up held OPENAI_API_KEY; the plugin, loaded by the fixture, finds it held:
    after the run it is unset again (one holder, released once)."""
    pytester.makeini(CONFIGURED)
    pytester.makepyfile(test_used=USES_A_RECORDING)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
    import os

    assert "OPENAI_API_KEY" not in os.environ
    from apirec.integrations import key_holders

    assert "OPENAI_API_KEY" not in key_holders._holders
