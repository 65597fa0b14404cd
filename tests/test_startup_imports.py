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
    assert loaded["apirec"] == [
        "apirec",
        "apirec.errors",
        "apirec.record",
        "apirec.record.lazy_module",  # the annotations' names, imported when asked for
        "apirec.record.modes",
    ]


def test_a_public_name_loads_on_first_use() -> None:
    code = REPORT + "import apirec\nassert callable(apirec.record)\nreport()\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "apirec.record.wrapping" in _loaded(result.stdout)["apirec"]


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
    assert loaded["apirec"] == [
        "apirec",
        "apirec.errors",
        "apirec.guard",  # the network guard watches every test of a replay run
        "apirec.guard.core",
        "apirec.guard.hosts",
        "apirec.guard.sockets",
        "apirec.pytest",
        "apirec.pytest.network",
        "apirec.pytest.servers",  # servers under test: hooks httpx, requests, aiohttp once imported
        "apirec.pytest.startup",
        "apirec.pytest.suite",  # what the run collects, before the plugin may load
        "apirec.record",
        "apirec.record.closing",
        "apirec.record.context",
        "apirec.record.layers",  # the run's mode: APIREC_MODE, by the one order (stdlib only)
        "apirec.record.lazy_module",
        "apirec.record.modes",
    ]


def test_the_start_up_options_offer_the_recorders_choices() -> None:
    from apirec.pytest import network, startup
    from apirec.record import expiry, sequences, settings

    assert startup.STORE_KINDS == settings.STORE_KINDS
    assert startup.BLOCK_LEVELS == settings.BLOCK_LEVELS
    assert startup.ON_EXPIRED == expiry.ON_EXPIRED
    assert startup.REPEATS == sequences.REPEATS
    assert network.BLOCK_LEVELS == settings.BLOCK_LEVELS
    assert network.ENV_BLOCK_NETWORK == settings.ENV_BLOCK_NETWORK
    assert network.ENV_ALLOW_HOSTS == settings.ENV_ALLOW_HOSTS


OWN_RECORDING = """
import apirec
from pathlib import Path

def test_own():
    # the recorder is first loaded here, inside the test: its keys are still scoped by the
    # test's node id
    @apirec.record
    def double(x):
        return x * 2

    with apirec.recording(Path(__file__).parent / "recs", mode=MODE):
        assert double(2) == 4
"""


def test_a_recorder_first_loaded_inside_a_test_is_keyed_by_its_node_id(tmp_path: Path) -> None:
    def run(mode: str) -> str:
        (tmp_path / "test_own.py").write_text(OWN_RECORDING.replace("MODE", repr(mode)))
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run("record")
    stored = "".join(p.read_text() for p in (tmp_path / "recs").rglob("*.json"))
    assert '"test_own.py::test_own"' in stored  # keyed under the test's node id
    run("replay")  # a miss would fail the test: the replay finds it under the same key
