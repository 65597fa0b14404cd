"""What `import apirec` and a pytest run that uses no recording load: not the recorder.

Run in fresh processes, as a user's run starts: the pytest plugin (entry point ``apirec``) is
loaded by every pytest run in an environment where apirec is installed, so it must not pull in
the recorder, codec, stores or their dependencies until a test asks for a recording.
"""

from __future__ import annotations

import json
import os
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


def _loaded_by_a_run(project: Path, env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """What a one-test ``pytest -q`` run in ``project`` loaded, reported as it unconfigures."""
    unconfigure = "def pytest_unconfigure(config):\n    report()\n"
    (project / "conftest.py").write_text(REPORT + unconfigure)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return _loaded(result.stdout)


def test_a_run_without_recordings_loads_only_the_plugins_start_up(tmp_path: Path) -> None:
    (tmp_path / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    loaded = _loaded_by_a_run(tmp_path)
    assert loaded["heavy"] == []
    assert loaded["apirec"] == MODULES_OF_A_RUN_WITHOUT_RECORDINGS


MODULES_OF_A_RUN_WITHOUT_RECORDINGS = [
    "apirec",
    "apirec.errors",
    "apirec.guard",  # the network guard watches every test of a replay run
    "apirec.guard.addresses",  # not the rules of allow_hosts: a recording brings them
    "apirec.guard.core",
    "apirec.guard.sockets",
    "apirec.pytest",
    "apirec.pytest.configured",  # which settings load the plugin at once
    "apirec.pytest.network",
    "apirec.pytest.servers",  # servers under test: hooks httpx, requests, aiohttp once imported
    "apirec.pytest.startup",
    "apirec.pytest.suite",  # what the run collects, before the plugin may load
    "apirec.record",
    "apirec.record.closing",
    "apirec.record.context",
    "apirec.record.lazy_module",
    "apirec.record.modes",
]


def test_a_run_configured_by_the_common_settings_loads_only_light_modules(
    tmp_path: Path,
) -> None:
    """ini apirec_mode, apirec_integrations, apirec_store, apirec_dir and APIREC_MODE,
    APIREC_DIR, APIREC_STORE: the names are checked and the placeholder keys set at start,
    without the recorder, the codec, the key rules or pydantic."""
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\napirec_integrations = openai\napirec_mode = replay\n"
        "apirec_store = msgpack\napirec_dir = recs\n"
    )
    (tmp_path / "test_one.py").write_text(
        "import os\n\ndef test_one():\n"
        "    assert os.environ['OPENAI_API_KEY'] == 'apirec-replay-placeholder'\n"
    )
    env = {n: v for n, v in os.environ.items() if not n.startswith(("APIREC_", "OPENAI_"))}
    env.update(APIREC_MODE="replay", APIREC_DIR="recs", APIREC_STORE="json")
    loaded = _loaded_by_a_run(tmp_path, env)
    assert loaded["heavy"] == []
    light = {
        "apirec.integrations",  # its names load on first use
        "apirec.integrations.after_import",  # openai's other keys: when the run imports it
        "apirec.integrations.key_holders",
        "apirec.integrations.known",
        "apirec.pytest.environment_check",  # APIREC_MODE checked at start
        "apirec.pytest.run_keys",
    }
    assert light <= set(loaded["apirec"]) <= set(MODULES_OF_A_RUN_WITHOUT_RECORDINGS) | light


def test_the_start_up_options_offer_the_recorders_choices() -> None:
    from apirec.pytest import configured, network, startup
    from apirec.record import expiry, sequences, settings

    assert startup.STORE_KINDS == settings.STORE_KINDS
    assert configured.STORE_KINDS == settings.STORE_KINDS
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


def test_a_json_replay_loads_neither_the_msgpack_store_nor_a_toml_reader(tmp_path: Path) -> None:
    # A miss's diagnosis imported the msgpack store's file name at module level (nine modules
    # of it), and the savings' price reader tomllib: every run that replayed JSON paid both.
    code = (
        REPORT
        + "import apirec, sys\n"
        + "@apirec.record\n"
        + "def answer(q):\n"
        + "    return {'a': q}\n"
        + f"with apirec.recording({str(tmp_path)!r}, mode='record'):\n"
        + "    answer(1)\n"
        + f"with apirec.recording({str(tmp_path)!r}, mode='replay'):\n"
        + "    assert answer(1) == {'a': 1}\n"
        + "print('APIREC-MODULES ' + json.dumps({'apirec': sorted(sys.modules), 'heavy': []}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(_loaded(result.stdout)["apirec"])
    assert "apirec.record.recording" in loaded  # it did record and replay
    assert not {m for m in loaded if m.startswith("apirec.stores.msgpack")}
    assert "tomllib" not in loaded


MARKS_APIREC = "import pytest\n\npytest.register_assert_rewrite('apirec')\n"
REWRITTEN = """
import json
import sys

def _rewritten():
    return sorted(
        name for name, module in list(sys.modules.items())
        if name.startswith("apirec") and getattr(module, "__spec__", None) is not None
        and type(module.__spec__.loader).__name__ == "AssertionRewritingHook"
    )

def test_recording(tmp_path):
    import apirec

    @apirec.record
    def double(x):
        return x * 2

    with apirec.recording(tmp_path, mode="record"):
        assert double(2) == 4
    print()
    print("REWRITTEN " + json.dumps(_rewritten()))

def test_own_asserts_are_still_rewritten():
    left, right = [1, 2], [1, 3]
    assert left == right
"""


def test_apirecs_modules_skip_pytests_assertion_rewriting(tmp_path: Path) -> None:
    # A regular install marks every module of apirec's distribution for rewriting (its
    # pytest11 entry point); an editable one, as here, does not, so a plugin given first with
    # -p marks it as pip's install would. Read through the rewrite hook, a module costs about
    # eight times a plain import.
    (tmp_path / "marks_apirec.py").write_text(MARKS_APIREC)
    (tmp_path / "test_rewrite.py").write_text(REWRITTEN)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-s", "-p", "marks_apirec", "-p", "no:cacheprovider",
         "-p", "no:xdist"],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )  # fmt: skip
    out = result.stdout
    line = next((x for x in out.splitlines() if x.startswith("REWRITTEN")), out + result.stderr)
    rewritten = json.loads(line.removeprefix("REWRITTEN "))
    # only what loads before apirec.pytest can unmark the package
    assert set(rewritten) <= {
        "apirec",
        "apirec.errors",
        "apirec.pytest",
        "apirec.record",
        "apirec.record.lazy_module",
        "apirec.record.modes",
    }, rewritten
    assert "apirec.errors" in rewritten  # the -p plugin did mark it: the check above is real
    # the user's own test file is rewritten as always: pytest explains the failed assert
    assert "1 failed, 1 passed" in out, out + result.stderr
    assert "At index 1 diff: 2 != 3" in out


def test_no_module_of_apirec_is_named_as_pytest_finds_test_files() -> None:
    # pytest rewrites any imported module whose file name matches its default python_files,
    # plugin or not: apirec.record.not_a_test was read through the rewrite hook in every run.
    import fnmatch

    import apirec

    package = Path(apirec.__file__).parent
    named_like_tests = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if fnmatch.fnmatch(path.name, "test_*.py") or fnmatch.fnmatch(path.name, "*_test.py")
    ]
    assert named_like_tests == []


RECORDED_THROUGH_THE_FIXTURE = """
import apirec

@apirec.record
def answer(q):
    return {"a": q}

def test_answer(apirec):
    assert answer(1) == {"a": 1}
"""


def test_a_json_run_of_the_plugin_loads_neither_the_msgpack_nor_the_remote_store(
    tmp_path: Path,
) -> None:
    # the plugin's advice and usage modules imported the msgpack store's file name, and the
    # settings, the store and the remote options the remote store's modules, in every run
    (tmp_path / "test_answer.py").write_text(RECORDED_THROUGH_THE_FIXTURE)
    env = {n: v for n, v in os.environ.items() if not n.startswith("APIREC_")}
    recorded = _loaded_by_a_run(tmp_path, {**env, "APIREC_MODE": "record"})
    replayed = _loaded_by_a_run(tmp_path, {**env, "APIREC_MODE": "replay"})
    for loaded in (recorded, replayed):
        assert "apirec.record.recording" in loaded["apirec"]  # it did use a recording
        stores = {m for m in loaded["apirec"] if m.startswith("apirec.stores.")}
        assert not {
            m for m in stores if m.startswith(("apirec.stores.msgpack", "apirec.stores.remote"))
        }


def test_a_configured_run_that_imports_the_sdk_finds_its_keys_without_the_recorder(
    tmp_path: Path,
) -> None:
    # README's setup (apirec_integrations = openai) and a test module that imports openai,
    # no test using a recording: the keys openai's classes name besides OPENAI_API_KEY were
    # found through the integration module, which loaded the recorder (71 apirec modules)
    (tmp_path / "pytest.ini").write_text("[pytest]\napirec_integrations = openai\n")
    (tmp_path / "test_one.py").write_text(
        "import os\nimport openai\n\ndef test_one():\n"
        "    assert os.environ['AZURE_OPENAI_API_KEY'] == 'apirec-replay-placeholder'\n"
    )
    env = {
        n: v for n, v in os.environ.items() if not n.startswith(("APIREC_", "OPENAI_", "AZURE_"))
    }
    loaded = set(_loaded_by_a_run(tmp_path, env)["apirec"])
    assert "apirec.integrations.stainless_keys" in loaded  # the keys were found
    assert not {m for m in loaded if m.startswith(("apirec.record.recording", "apirec.codec"))}
    assert "apirec.integrations.stainless" not in loaded
