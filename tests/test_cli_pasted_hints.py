"""Every command the CLI prints works when pasted into a shell (issue 20;
``apirec.errors.command``): paths with spaces are quoted, a path that starts with ``-`` is not
taken for an option, nothing stray trails the command, and a path keeps its directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.plugin_helpers import setup

WEATHER = Path(__file__).parent.parent / "examples" / "weather" / "tests" / "recordings"


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` as a user pasting it in a shell where the venv is active."""
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "COLUMNS": "300"}
    env.pop("APIREC_MODE", None)
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def apirec(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return shell(" ".join(map(_quoted, ["apirec", *args])), cwd)


def _quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def test_verify_trust_command_and_ls_hint_paste_with_a_space_in_the_path(tmp_path):
    shutil.copytree(WEATHER, tmp_path / "my recs")
    out = apirec("verify", "my recs", cwd=tmp_path).stdout
    (line,) = [x for x in out.splitlines() if x.startswith("  apirec verify")]
    # was: apirec verify 'my recs' --trust openai) -- a stray ')' the shell refuses
    assert line == "  apirec verify 'my recs' --trust openai"
    assert shell(line, tmp_path).returncode == 0

    said = apirec("ls", "my recs", "--test", "nope", cwd=tmp_path).stderr
    hint = re.search(r"see (apirec ls .*)\)$", said.strip())
    assert hint, said
    # was: see apirec ls my recs, which lists 'my' and 'recs'
    pasted = shell(hint[1], tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert "weather" in pasted.stdout


def test_repair_hint_pastes_with_a_space_in_the_path(tmp_path):
    shutil.copytree(WEATHER, tmp_path / "my recs")
    apirec("convert", "my recs", "my store", "--to", "msgpack", "-q", cwd=tmp_path)
    store = tmp_path / "my store" / "recordings.apirec"
    data = bytearray(store.read_bytes())
    data[40] ^= 0xFF
    store.write_bytes(bytes(data))
    said = apirec("verify", "my store", cwd=tmp_path)
    hint = re.search(r"\((apirec repair .*?) drops it", said.stdout + said.stderr)
    assert hint, said.stdout + said.stderr
    assert hint[1] == "apirec repair 'my store'"  # was: apirec repair my store
    assert shell(hint[1], tmp_path).returncode == 0
    assert apirec("verify", "my store", cwd=tmp_path).returncode == 0


def test_demo_keep_commands_paste_for_a_directory_named_like_an_option(tmp_path):
    out = apirec("demo", "--keep=-dash", cwd=tmp_path).stdout
    lines = [x.strip() for x in out.splitlines() if x.startswith("  apirec ")]
    # was: apirec ls -dash, refused as an unknown option
    assert lines[0] == "apirec ls ./-dash"
    for line in lines:
        pasted = shell(line, tmp_path)
        assert pasted.returncode == 0, (line, pasted.stderr)
        assert "demo." in pasted.stdout


def test_the_usage_report_hint_keeps_the_reports_directory(pytester):
    setup(pytester)
    pytester.makepyfile(test_a="import provider\ndef test_a(apirec):\n    provider.add(1)\n")
    pytester.runpytest("--apirec-mode=record").assert_outcomes(passed=1)
    (pytester.path / "reports").mkdir()
    (pytester.path / "reports" / "usage.json").write_text("{}")
    said = apirec("prune", "recordings", "--usage", "reports/usage.json", cwd=pytester.path)
    hint = re.search(r"write one with (pytest .*)\)?$", said.stderr.strip())
    assert hint, said.stderr
    # was: pytest --apirec-usage=usage.json, which wrote the report beside, not in reports/
    assert hint[1] == "pytest --apirec-usage=reports/usage.json"
    pytester.runpytest("--apirec-usage=reports/usage.json").assert_outcomes(passed=1)
    again = apirec("prune", "recordings", "--usage", "reports/usage.json", cwd=pytester.path)
    assert again.returncode == 0, again.stderr
