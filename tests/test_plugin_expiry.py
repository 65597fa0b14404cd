"""Expiry under pytest (issue 13 point 3): the marker's ``max_age=`` / ``on_expired=``,
``--apirec-max-age`` / ``--apirec-expired`` and the ini keys; marker > command line > ini.

Each test records with a real inner run, then makes chosen recordings old by writing a
``recorded_at`` in the past into them (no sleeping), then runs again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex

import pytest

from .plugin_helpers import setup

TESTS = """
import pytest
import provider

@pytest.mark.apirec
def test_one():
    assert provider.add(1)["sum"] == 2

@pytest.mark.apirec
def test_two():
    assert provider.add(2)["sum"] == 3

def test_calls():
    print("CALLS=" + repr(sorted(provider.calls)))
"""


def recorded(pytester, tests=TESTS):
    pytester.makepyfile(test_exp=tests)
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=tests.count("def test_"))
    return {
        json.loads(p.read_text())["test_id"].rsplit("::", 1)[-1]: p
        for p in (pytester.path / "recordings").glob("*.json")
    }


def age(path, days):
    entry = json.loads(path.read_text())
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    entry["recorded_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps(entry, indent=2))


@pytest.mark.parametrize(
    ("ini", "cli", "marker", "fails"),
    [
        ("apirec_max_age = 30d\napirec_expired = fail", [], "", True),
        ("apirec_max_age = 60d\napirec_expired = fail", [], "", False),
        # the command line over the ini file
        ("apirec_max_age = 60d\napirec_expired = warn", ["--apirec-max-age=30d",
                                                         "--apirec-expired=fail"], "", True),
        ("apirec_max_age = 30d\napirec_expired = fail", ["--apirec-max-age=60d"], "", False),
        # the marker over the command line
        ("", ["--apirec-max-age=30d", "--apirec-expired=fail"], "max_age='60d'", False),
        ("", ["--apirec-max-age=30d", "--apirec-expired=fail"], "max_age=None", False),
        ("apirec_expired = fail", ["--apirec-max-age=60d"], "max_age='1w'", True),
        ("apirec_expired = fail", ["--apirec-max-age=60d"], "max_age='0s'", True),
        ("apirec_max_age = 1d", ["--apirec-expired=warn"], "on_expired='fail'", True),
    ],
)  # fmt: skip
def test_precedence_marker_over_command_line_over_ini(pytester, ini, cli, marker, fails):
    setup(pytester, ini)
    paths = recorded(pytester)
    age(paths["test_one"], 40)
    pytester.makepyfile(
        test_exp=TESTS.replace("@pytest.mark.apirec\n", f"@pytest.mark.apirec({marker})\n", 1)
    )
    result = pytester.runpytest("-p", "no:randomly", *cli)
    if fails:
        result.assert_outcomes(passed=2, failed=1)
        result.stdout.fnmatch_lines(
            [
                "*FAILED test_exp.py::test_one - *ExpiredRecording: demo.add(): *",
            ]
        )
        assert str(paths["test_one"]) in result.stdout.str()
    else:
        result.assert_outcomes(passed=3)


def test_fail_names_file_age_max_age_and_the_command_that_re_records(pytester):
    setup(pytester)
    paths = recorded(pytester)
    age(paths["test_one"], 40)
    result = pytester.runpytest(
        "--apirec-max-age=30d", "--apirec-expired=fail", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=2, failed=1)
    text = result.stdout.str()
    assert f"{paths['test_one']} was recorded 40d ago (" in text
    assert "more than max_age=30d; re-record it in record-if-missing mode with " in text
    printed = (
        "pytest test_exp.py::test_one --apirec-mode=record-if-missing -p no:randomly "
        "--apirec-max-age=30d --apirec-expired=record"
    )
    assert printed in text
    # the command works when pasted: it records the expired answer again, and then the
    # same strict run passes
    before = paths["test_one"].read_text()
    pytester.runpytest(*shlex.split(printed)[1:]).assert_outcomes(passed=1)
    assert paths["test_one"].read_text() != before
    again = pytester.runpytest("--apirec-max-age=30d", "--apirec-expired=fail", "-p", "no:randomly")
    again.assert_outcomes(passed=3)


def test_warn_replays_with_a_warning_in_the_summary(pytester):
    setup(pytester)
    paths = recorded(pytester)
    age(paths["test_two"], 3)
    result = pytester.runpytest(
        "--apirec-max-age=2d", "-W", "default::apirec.ExpiredRecordingWarning", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        ["*/test_exp.py:10: ExpiredRecordingWarning: apirec: "
         f"{paths['test_two']} was recorded 3d ago (*"
         "more than max_age=2d; replayed all the same (on_expired='warn')"]
    )  # fmt: skip


def test_record_re_records_only_the_expired_answers_of_the_tests_that_run(pytester):
    setup(pytester)
    paths = recorded(pytester)
    for path in paths.values():
        age(path, 10)
    other = paths["test_two"].read_bytes()
    result = pytester.runpytest(
        "--apirec-mode=record-if-missing",
        "--apirec-max-age=7d",
        "--apirec-expired=record",
        "-s",
        "-p",
        "no:randomly",
        "-k",
        "test_one or test_calls",
    )
    result.assert_outcomes(passed=2, deselected=1)
    assert "CALLS=[('add', 1, 1)]" in result.stdout.str()  # test_one's call went through
    renewed = json.loads(paths["test_one"].read_text())
    assert dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(
        renewed["recorded_at"]
    ) < dt.timedelta(minutes=5)
    assert paths["test_two"].read_bytes() == other  # expired, but not asked for: untouched
    assert sorted(p.name for p in (pytester.path / "recordings").glob("*.json")) == sorted(
        p.name for p in paths.values()
    )

    # test_one replays from now on, with no call and no warning (filterwarnings = error)
    result = pytester.runpytest(
        "--apirec-max-age=7d", "-s", "-p", "no:randomly", "-k", "one or calls"
    )
    result.assert_outcomes(passed=2, deselected=1)
    assert "CALLS=[]" in result.stdout.str()


def test_an_expired_answer_the_code_swallowed_still_fails_the_test(pytester):
    setup(pytester)
    paths = recorded(
        pytester,
        """
import pytest
import provider

@pytest.mark.apirec
def test_fallback():
    try:
        provider.add(1)
    except Exception:
        pass
""",
    )
    age(paths["test_fallback"], 10)
    result = pytester.runpytest("--apirec-max-age=7d", "--apirec-expired=fail")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*a replay miss was caught by the code under test; the test fails anyway:*",
         "*demo.add(): * was recorded 10d ago*"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--apirec-max-age=30x"], "", "--apirec-max-age: '30x' is not an age. Write a number"),
        (["--apirec-expired=ignore"], "",
         "--apirec-expired: 'ignore' is not a valid on_expired. Valid values are: warn, fail, "
         "record"),
        ([], "apirec_max_age = a month", "ini apirec_max_age: 'a month' is not an age."),
        ([], "apirec_expired = loud", "ini apirec_expired: 'loud' is not a valid on_expired."),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors_naming_the_option(pytester, args, ini, message):
    setup(pytester, ini)
    pytester.makepyfile("def test_x(apirec): pass\n")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("max_age='soon'", ": max_age: 'soon' is not an age."),
        ("on_expired='never'", ": on_expired: 'never' is not a valid on_expired."),
    ],
)
def test_bad_marker_values_name_the_marker_and_the_test(pytester, marker, message):
    setup(pytester)
    pytester.makepyfile(f"import pytest\n@pytest.mark.apirec({marker})\ndef test_x(): pass\n")
    result = pytester.runpytest()
    assert result.ret != pytest.ExitCode.OK
    node = "test_bad_marker_values_name_the_marker_and_the_test.py::test_x"
    assert f"@pytest.mark.apirec on {node}{message}" in result.stdout.str() + result.stderr.str()


def test_command_line_values_reach_recordings_a_conftest_opens_itself(pytester):
    """The migration pattern: a conftest's own apirec.recording(dir) follows the run's
    --apirec-max-age / --apirec-expired, as it follows --apirec-mode (ini values stay
    with the plugin's recordings)."""
    setup(pytester)
    pytester.makeconftest(
        """
        import apirec
        import pytest

        @pytest.fixture(autouse=True)
        def legacy():
            with apirec.recording("legacy"):
                yield
        """
    )
    pytester.makepyfile(test_legacy="import provider\ndef test_a():\n    provider.add(5)\n")
    assert pytester.runpytest("--apirec-mode=record").ret == 0
    (path,) = (pytester.path / "legacy").glob("*.json")
    age(path, 10)
    before = dict(os.environ)
    result = pytester.runpytest("--apirec-max-age=7d", "--apirec-expired=fail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ExpiredRecording: demo.add(): * was recorded 10d ago*"])
    assert dict(os.environ) == before  # restored when the run ends
    assert pytester.runpytest("--apirec-max-age=30d", "--apirec-expired=fail").ret == 0


@pytest.mark.parametrize("mode", ["", ", mode='replay'"])
def test_a_marker_that_fixes_on_expired_gets_a_command_that_re_records(pytester, mode):
    """Issue 20 point 9: the marker's on_expired='fail' wins over --apirec-expired=record, so
    the printed advice is record mode (or, with the marker's mode, the marker's change)."""
    setup(pytester)
    paths = recorded(pytester)
    age(paths["test_one"], 40)
    marker = f"@pytest.mark.apirec(max_age='30d', on_expired='fail'{mode})\n"
    tests = TESTS.replace("@pytest.mark.apirec\n", marker, 1)
    pytester.makepyfile(test_exp=tests)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, failed=1)
    text = result.stdout.str()
    assert (
        "on_expired='fail' in @pytest.mark.apirec on test_exp.py::test_one overrides "
        "--apirec-expired, so re-record the test in record mode: "
    ) in text
    before = paths["test_one"].read_text()
    if mode:  # the marker's mode wins over --apirec-mode: the advice is to change it
        said = "set mode='record' in @pytest.mark.apirec on test_exp.py::test_one "
        then = "then: pytest test_exp.py::test_one -p no:randomly,"
        assert said + "(it overrides --apirec-mode), " + then in text
        pytester.makepyfile(test_exp=tests.replace(mode, ", mode='record'"))
        pytester.runpytest("test_exp.py::test_one").assert_outcomes(passed=1)
        pytester.makepyfile(test_exp=tests)
    else:
        printed = "pytest test_exp.py::test_one --apirec-mode=record -p no:randomly"
        assert f"record mode: {printed}, or delete the file" in text
        pytester.runpytest(*shlex.split(printed)[1:]).assert_outcomes(passed=1)
    assert paths["test_one"].read_text() != before  # recorded again
    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
