"""The command a miss prints for a recording the plugin did not open (a test's own ``with
apirec.recording(...)``, a script's) works when pasted (issue 20): it names the test that
missed, not the whole run, and when ``mode=`` in the code decides (it wins over
``APIREC_MODE`` and ``--apirec-mode``) it says to change it, where."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

TESTS = """
import apirec


@apirec.record
def ask(question):
    return question.upper()


def test_explicit_mode():
    with apirec.recording("recs", mode="replay"):
        assert ask("where do llamas live") == "WHERE DO LLAMAS LIVE"


def test_unrelated():
    pass


def test_own_recording():
    with apirec.recording("recs"):
        assert ask("what do llamas eat") == "WHAT DO LLAMAS EAT"
"""

SCRIPT = """
import sys

import apirec


@apirec.record
def ask(question):
    return question.upper()


with apirec.recording("recs", mode=sys.argv[1]):
    print(ask("how far do llamas walk"))
"""


def paste(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as a user pasting it in a shell where the venv is active."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    env.pop("APIREC_MODE", None)
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def advice(output: str) -> list[str]:
    # Only the failures section: on CI (the CI variable set) pytest prints each failure's
    # whole message again in the short summary, which would count every command twice.
    failures = output.split("short test summary info")[0]
    return re.findall(r"To record it, run:\n(?:E)?\s*(.+)", failures)  # E: pytest's margin


def test_a_tests_own_recordings_misses_name_the_test_and_the_mode_argument(pytester):
    pytester.makepyfile(test_llamas=TESTS)
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")  # the full suite
    result.assert_outcomes(passed=1, failed=2)
    explicit, own = advice(result.stdout.str())
    # mode= in the code wins over APIREC_MODE: a variable cannot record it, the code must change
    written = (pytester.path / "test_llamas.py").read_text().splitlines()
    line = written.index('    with apirec.recording("recs", mode="replay"):') + 1
    assert explicit == (
        f"set mode='record-if-missing' in the apirec.recording(...) call at "
        f"test_llamas.py:{line} (its mode= overrides APIREC_MODE and --apirec-mode), "
        f"then: pytest test_llamas.py::test_explicit_mode -q -p no:cacheprovider"
    )
    # no mode in the code: the test with the run's options, not the run (every test again)
    assert own == (
        "pytest test_llamas.py::test_own_recording --apirec-mode=record-if-missing "
        "-q -p no:cacheprovider"
    )

    pasted = paste(own, pytester.path)
    assert "1 passed" in pasted.stdout, pasted.stdout
    source = pytester.path / "test_llamas.py"
    source.write_text(TESTS.replace('mode="replay"', 'mode="record-if-missing"'))
    pasted = paste(explicit.split("then: ", 1)[1], pytester.path)
    assert "1 passed" in pasted.stdout, pasted.stdout
    source.write_text(TESTS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_a_scripts_miss_says_to_change_its_mode_argument(tmp_path):
    (tmp_path / "upload.py").write_text(SCRIPT)
    run = subprocess.run(
        [sys.executable, "upload.py", "replay"], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 1
    (printed,) = advice(run.stderr)
    # was: APIREC_MODE=record-if-missing python upload.py replay, which missed again
    assert not printed.startswith("APIREC_MODE=")
    line = SCRIPT.splitlines().index('with apirec.recording("recs", mode=sys.argv[1]):') + 1
    assert printed.startswith(
        f"set mode='record-if-missing' in the apirec.recording(...) call at upload.py:{line} "
        f"(its mode= overrides APIREC_MODE), then: "
    )
    assert printed.endswith("upload.py replay")


def test_without_a_mode_argument_the_environment_command_still_records(tmp_path):
    (tmp_path / "fetch.py").write_text(SCRIPT.replace("mode=sys.argv[1]", "mode=None"))
    run = subprocess.run(
        [sys.executable, "fetch.py", "x"], cwd=tmp_path, capture_output=True, text=True
    )
    (printed,) = advice(run.stderr)
    assert printed.startswith("APIREC_MODE=record-if-missing ")
    assert paste(printed, tmp_path).returncode == 0
    again = subprocess.run([sys.executable, "fetch.py", "x"], cwd=tmp_path, capture_output=True)
    assert again.returncode == 0
