"""What `import apirec` and a pytest run that uses no recording load: not the recorder.

Run in fresh processes, as a user's run starts: the pytest plugin (entry point ``apirec``) is
loaded by every pytest run in an environment where apirec is installed, so it must not pull in
the recorder, codec, stores or their dependencies until a test asks for a recording.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pydantic", "msgpack", "xxhash", "wrapt")
REPORT = (
    "import json, sys\n"
    "def report():\n"
    "    print('APIREC-MODULES ' + json.dumps({\n"
    "        'apirec': sorted(m for m in sys.modules if m.startswith('apirec')),\n"
    f"        'heavy': [m for m in {HEAVY!r} if m in sys.modules],\n"
    "    }))\n"
)


def _loaded(output: str) -> dict[str, list[str]]:
    line = next(x for x in output.splitlines() if x.startswith("APIREC-MODULES "))
    return json.loads(line.removeprefix("APIREC-MODULES "))  # type: ignore[no-any-return]


def test_import_apirec_loads_no_recorder_and_no_dependencies() -> None:
    code = REPORT + "import apirec\nreport()\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = _loaded(result.stdout)
    assert loaded["heavy"] == []
    assert loaded["apirec"] == ["apirec", "apirec.errors", "apirec.record", "apirec.record.modes"]


def test_a_public_name_loads_on_first_use() -> None:
    code = REPORT + "import apirec\nassert callable(apirec.record)\nreport()\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "apirec.record.wrapping" in _loaded(result.stdout)["apirec"]


@pytest.mark.xfail(
    strict=True, reason="issue 19 point 1: the plugin still imports the recorder at start-up"
)
def test_a_run_without_recordings_loads_only_the_plugins_start_up(tmp_path: Path) -> None:
    unconfigure = "def pytest_unconfigure(config):\n    report()\n"
    (tmp_path / "conftest.py").write_text(REPORT + unconfigure)
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    loaded = _loaded(result.stdout)
    assert loaded["heavy"] == []
    assert not [m for m in loaded["apirec"] if m.startswith("apirec.record.recording")]
