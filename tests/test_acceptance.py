"""Found by acceptance review: a user's scratch scripts, turned into tests."""

import json
import os
from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main


@apirec.record(name="acceptance.echo")
def echo(x: int) -> dict[str, int]:
    return {"x": x}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def msgpack_store(tmp_path: Path) -> Path:
    store = tmp_path / "mp"
    with apirec.recording(store, mode="record", store="msgpack"):
        echo(1)
        echo(2)
    return store


@pytest.mark.parametrize(
    ("command", "target"),
    [
        ("ls", "directory"),
        ("prune", "directory"),
        ("ls", "file"),
        ("show", "file"),
    ],
)
def test_cli_on_a_msgpack_store_does_not_report_an_empty_store(
    capsys, msgpack_store, command, target
):
    # `apirec verify` used to say "ok: 0 recordings checked" for a store holding two, and
    # "not valid JSON (UnicodeDecodeError ...)" for the store file itself
    path = msgpack_store if target == "directory" else msgpack_store / "recordings.apirec"
    code, out, err = run(capsys, command, path, *(["--shared"] if command == "prune" else []))
    assert code == 2, out
    assert "msgpack store" in err and "apirec convert" in err
    assert str(msgpack_store / "recordings.apirec") in err


@pytest.mark.parametrize("target", ["directory", "file"])
def test_cli_verify_checks_every_recording_of_a_msgpack_store(capsys, msgpack_store, target):
    path = msgpack_store if target == "directory" else msgpack_store / "recordings.apirec"
    code, out, _ = run(capsys, "verify", path)
    assert code == 0, out
    assert "ok: 2 recordings checked, 0 problems" in out


def test_cli_show_names_a_missing_file_as_missing_not_as_a_short_key(capsys, tmp_path):
    missing = tmp_path / "no-such-recording-file.json"
    code, _, err = run(capsys, "show", missing)
    assert code == 2
    assert f"{missing}: no such file" in err
    assert "too short" not in err


def test_cli_show_says_a_short_key_prefix_needs_six_characters(capsys, tmp_path):
    # newuser 20: cli.md said "a key prefix is enough", the error "too short to be a key"
    code, _, err = run(capsys, "show", "703c", "--dir", tmp_path)
    assert code == 2
    assert "703c: no such file, and too short to be a key prefix (give 6+ characters)" in err


def test_a_miss_in_the_wrong_kind_of_store_says_which_store_the_directory_holds(msgpack_store):
    # Opening a msgpack store's directory without store="msgpack" used to say only "No stored
    # call of acceptance.echo() in this store", as if the recordings were gone.
    with (
        pytest.raises(apirec.RecordingNotFound) as miss,
        apirec.recording(msgpack_store, mode="replay"),
    ):
        echo(1)
    assert 'holds a msgpack store (recordings.apirec): open it with store="msgpack"' in str(
        miss.value
    )


def test_a_miss_in_a_msgpack_store_over_json_files_says_they_are_there(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        echo(1)
    with (
        pytest.raises(apirec.RecordingNotFound) as miss,
        apirec.recording(tmp_path, mode="replay", store="msgpack"),
    ):
        echo(1)
    assert 'holds JSON recordings: open it with store="json"' in str(miss.value)


@pytest.mark.parametrize("mode", ["replay", "record"])
def test_a_call_that_does_not_fit_the_signature_raises_typeerror_and_stores_nothing(tmp_path, mode):
    @apirec.record(name="acceptance.two")
    def two(a: int, b: int = 1) -> list[int]:
        return [a, b]

    with apirec.recording(tmp_path, mode=mode), pytest.raises(TypeError) as error:
        two()  # type: ignore[call-arg]
    assert not isinstance(error.value, apirec.ApirecError)
    assert "missing" in str(error.value) and "'a'" in str(error.value)
    assert not list(tmp_path.glob("*.json"))


def test_ignore_naming_no_parameter_is_refused_when_the_function_is_decorated():
    # A typo in ignore= used to be accepted silently: the parameter meant stayed in the key,
    # so every replay of a call with a new request id missed.
    def search(query: str, request_id: str = "") -> list[str]:
        return [query]

    with pytest.raises(TypeError, match=r"ignore='reqest_id': search\(\) has no parameter"):
        apirec.record(name="acceptance.search", ignore=["reqest_id"])(search)
    with pytest.raises(TypeError, match=r"ignore='headers.X-Trace'"):
        apirec.record(ignore=["headers.X-Trace"])(search)
    apirec.record(ignore=["request_id", "query.x"])(search)  # real names are accepted

    def anything(**kwargs: object) -> None: ...

    apirec.record(ignore=["whatever.path"])(anything)  # **kwargs: any name may come


MIGRATED_CONFTEST = """
import pytest, apirec

@apirec.record(name="svc.ask")
def ask(q):
    return q.upper()

@pytest.fixture(autouse=True)
def recordings(request):
    with apirec.recording(request.path.parent / "recordings") as rec:  # no mode=: the run's
        yield rec
"""


def test_command_line_mode_reaches_recordings_that_tests_open_themselves(pytester):
    # README "Migrating": a conftest opens apirec.recording(directory) itself. The miss message
    # says to run with --apirec-mode=record-if-missing, but that option used to reach only the
    # plugin's own recordings: the run stayed in replay and failed again.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(MIGRATED_CONFTEST)
    pytester.makepyfile(
        test_ask="from conftest import ask\ndef test_ask():\n    assert ask('a') == 'A'\n"
    )
    assert pytester.runpytest("-p", "no:cacheprovider").ret == 1
    result = pytester.runpytest("-p", "no:cacheprovider", "--apirec-mode=record-if-missing")
    result.assert_outcomes(passed=1)
    assert len(list((pytester.path / "recordings").glob("*.json"))) == 1
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)  # replays it
    assert "APIREC_MODE" not in os.environ  # the run's mode does not outlive it


def test_record_options_of_the_wrong_type_are_refused_when_decorating():
    # normalize=5 used to fail only at the first call, as "'int' object is not callable"
    def f(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="normalize= takes a callable"):
        apirec.record(normalize=5)(f)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="name= takes a string"):
        apirec.record(name=5)(f)  # type: ignore[call-overload]


def test_a_normalizer_that_returns_no_mapping_is_named_in_the_error(tmp_path):
    @apirec.record(name="acceptance.norm", normalize=lambda arguments: None)
    def norm(x: int) -> int:
        return x

    expected = r"normalize= of acceptance.norm\(\) returned None"
    with pytest.raises(TypeError, match=expected), apirec.recording(tmp_path, mode="record"):
        norm(1)


def test_patching_through_a_recording_that_is_not_open_is_refused(tmp_path):
    from tests import patch_target

    original = patch_target.module_function
    rec = apirec.recording(tmp_path, mode="record")
    try:
        with pytest.raises(apirec.ApirecError, match="not open"):
            rec.patch("tests.patch_target.module_function")
    finally:
        # undoes a patch that was wrongly applied, so other tests are unaffected
        with pytest.warns(apirec.NothingRecordedWarning), rec:
            pass
    assert patch_target.module_function is original


def test_prune_counts_one_recording_in_the_singular(capsys, tmp_path):
    with apirec.recording(tmp_path, mode="record"), apirec.test_context("t::one"):
        echo(1)
    code, out, _ = run(capsys, "prune", tmp_path, "--test", "t::one", "--dry-run")
    assert code == 0 and "would delete 1 recording\n" in out


def test_test_context_none_inside_a_test_using_the_apirec_fixture_records_no_test(pytester):
    # README: test_context(None) "puts a block outside any test even while one runs"; with the
    # apirec fixture the test's node id used to be stamped on every call regardless.
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_ctx="""
import apirec

@apirec.record(name="ctx.f")
def f(x):
    return x

def test_ctx(apirec):
    f(1)
    with apirec_module.test_context(None):
        f(2)
    with apirec_module.test_context("elsewhere::test"):
        f(3)

apirec_module = apirec
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--apirec-mode=record")
    result.assert_outcomes(passed=1)
    stored = [json.loads(p.read_text()) for p in (pytester.path / "recordings").glob("*.json")]
    test_ids = {e["request"]["args"]["x"]: e["test_id"] for e in stored}
    assert test_ids == {1: "test_ctx.py::test_ctx", 2: None, 3: "elsewhere::test"}


def test_register_type_refuses_what_it_cannot_honour():
    # Each of these used to be accepted silently (or fail with an AttributeError): a decode
    # that is not callable broke only at the first replay, and JSON types are never looked up.
    import fractions

    with pytest.raises(TypeError, match="register_type needs a class"):
        apirec.register_type("fractions.Fraction", str, str)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="decode must be callable"):
        apirec.register_type(fractions.Fraction, str, 5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int is stored as JSON"):
        apirec.register_type(int, str, int)
