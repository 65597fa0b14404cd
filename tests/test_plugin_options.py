"""--apirec-mode / --apirec-dir and their ini keys; precedence marker > cli > ini > env."""

import pytest

from .plugin_helpers import setup, stored

SHOW_MODE = """
import pytest

# in record modes it makes no call: the warning that it recorded nothing is expected
@pytest.mark.filterwarnings("ignore::apirec.NothingRecordedWarning")
def test_mode(apirec):
    print("MODE=" + apirec.mode.value)

@pytest.mark.apirec(mode="live")
def test_marker_mode(apirec):
    print("MODE=" + apirec.mode.value)
"""


@pytest.mark.parametrize(
    ("env", "ini", "cli", "expected"),
    [
        (None, None, None, "replay"),
        ("record", None, None, "record"),
        ("record", "record-if-missing", None, "record-if-missing"),
        ("record", "record-if-missing", "live", "live"),
        (None, None, "RECORD_IF_MISSING", "record-if-missing"),
    ],
)
def test_mode_precedence(pytester, monkeypatch, env, ini, cli, expected):
    if env:
        monkeypatch.setenv("APIREC_MODE", env)
    else:
        monkeypatch.delenv("APIREC_MODE", raising=False)
    setup(pytester, f"apirec_mode = {ini}" if ini else "")
    pytester.makepyfile(SHOW_MODE)
    args = ["-s", "-p", "no:randomly"] + ([f"--apirec-mode={cli}"] if cli else [])
    result = pytester.runpytest(*args)
    result.assert_outcomes(passed=2)
    # the marker wins over everything; the plain test gets the layered mode
    result.stdout.fnmatch_lines([f"*MODE={expected}*", "*MODE=live*"])


@pytest.mark.parametrize(
    ("args", "ini", "source"),
    [
        (["--apirec-mode=replya"], "", "--apirec-mode"),
        ([], "apirec_mode = sometimes", "ini apirec_mode"),
    ],
)
def test_bad_mode_is_a_usage_error_listing_the_valid_ones(pytester, args, ini, source):
    setup(pytester, ini)
    pytester.makepyfile("def test_x(apirec): pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*is not a valid record mode ({source}). Valid modes are: live, record, replay, *"]
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (
            "APIREC_MODE",
            "record-if-mising",
            "'record-if-mising' is not a valid record mode (environment variable APIREC_MODE). "
            "Valid modes are: live, record, replay, record-if-missing, compare",
        ),
        ("APIREC_ALLOW_HOSTS", "::bad::", "environment variable APIREC_ALLOW_HOSTS: *"),
        ("APIREC_MAX_AGE", "30x", "environment variable APIREC_MAX_AGE: '30x' is not an age*"),
        ("APIREC_EXPIRED", "explode", "environment variable APIREC_EXPIRED: *warn, fail, record"),
        ("APIREC_REPEATS", "never", "environment variable APIREC_REPEATS: *'exact'*'last'*"),
        ("APIREC_REPLAY_TIMING", "fast", "environment variable APIREC_REPLAY_TIMING: *"),
        ("APIREC_REMOTE", "ftp://x", "environment variable APIREC_REMOTE: *s3://, gs://*"),
        # checked as the plugin configures; it was named --apirec-prices
        ("APIREC_PRICES", "no-such.toml", "environment variable APIREC_PRICES: prices *"),
    ],
)
def test_a_bad_environment_value_is_one_usage_error_at_start_up(
    pytester, monkeypatch, variable, value, says
):
    # was: an error at the setup of every test, as each test's recording was built
    monkeypatch.setenv(variable, value)
    setup(pytester)
    pytester.makepyfile("def test_x(apirec): pass\n\ndef test_y(apirec): pass\n")
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {says}"])
    assert result.stderr.str().count(variable) == 1
    assert "test_x" not in result.stdout.str()


ADD = """
import provider

def test_add(apirec):
    assert provider.add(1) == {"sum": 2}
"""


def test_cli_dir_is_relative_to_the_invocation_directory(pytester):
    setup(pytester)
    tests = pytester.mkpydir("suite")
    (tests / "test_a.py").write_text(ADD)
    pytester.runpytest("--apirec-mode=record", "--apirec-dir=store/one").assert_outcomes(passed=1)
    assert [e["test_id"] for e in stored(pytester.path / "store/one")] == [
        "suite/test_a.py::test_add"
    ]
    assert not (tests / "recordings").exists()
    pytester.runpytest("--apirec-dir=store/one").assert_outcomes(passed=1)


def test_ini_dir_is_relative_to_the_ini_file(pytester):
    setup(pytester, "apirec_dir = cassettes")
    tests = pytester.mkpydir("suite")
    (tests / "test_a.py").write_text(ADD)
    pytester.runpytest("--apirec-mode=record", "suite").assert_outcomes(passed=1)
    assert len(stored(pytester.path / "cassettes")) == 1
    # run from another directory: still found next to the ini file
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tests)
        pytester.runpytest(str(tests)).assert_outcomes(passed=1)
