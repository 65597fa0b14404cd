"""Review of issue 20 point 8: ``prune --test`` must select exact node ids or globs, and never
delete more than asked. Two ways it deletes recordings of tests the user did not name."""

from __future__ import annotations

from pathlib import Path

import pytest

import apirec
from apirec.cli.app import main


@apirec.record(name="app.ask")
def ask(n: int) -> str:
    return f"answer {n}"


@apirec.record(name="app.tell")
def tell(n: int) -> str:
    return f"told {n}"


def _store(root: Path, ids: list[str]) -> Path:
    for n, test_id in enumerate(ids):
        with apirec.recording(root, mode="record", test_id=test_id):
            ask(n)
    return root


def _remaining(capsys: pytest.CaptureFixture[str], root: Path) -> set[str]:
    import json

    assert main(["ls", str(root), "--json"]) == 0
    return {r["test_id"] for r in json.loads(capsys.readouterr().out)}


def test_a_whole_node_id_selects_that_test_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # two different tests: the unit suite's and the integration suite's, same file name
    root = _store(
        tmp_path / "rec",
        ["tests/test_api.py::test_login", "integration/tests/test_api.py::test_login"],
    )
    assert main(["prune", str(root), "--test", "tests/test_api.py::test_login"]) == 0
    capsys.readouterr()
    # expected: the whole node id given is that test; happened: both deleted
    assert _remaining(capsys, root) == {"integration/tests/test_api.py::test_login"}


def test_a_glob_over_test_names_does_not_select_other_files_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # docs/cli.md: --test 'test_week*' selects the tests named test_week...
    root = _store(
        tmp_path / "rec",
        ["tests/test_weather.py::test_week", "tests/test_weekly_report.py::test_pdf_layout"],
    )
    assert main(["prune", str(root), "--test", "test_week*"]) == 0
    capsys.readouterr()
    # expected: test_pdf_layout kept (its name is not test_week*); happened: deleted, because
    # the glob runs over "test_weekly_report.py::test_pdf_layout" and * crosses "::"
    assert _remaining(capsys, root) == {"tests/test_weekly_report.py::test_pdf_layout"}


@pytest.mark.parametrize(
    ("test_id", "pattern", "selected"),
    [
        ("tests/test_api.py::test_login", "tests/test_api.py::test_login", True),
        ("integration/tests/test_api.py::test_login", "tests/test_api.py::test_login", False),
        ("integration/tests/test_api.py::test_login", "test_api.py::test_login", True),
        ("integration/tests/test_api.py::test_login", "*/tests/test_api.py::test_login", True),
        ("tests/test_weather.py::test_week", "*::test_w?ek", True),
        ("tests/test_weather.py::test_week", "test_week*", True),
        ("tests/test_weekly_report.py::test_pdf_layout", "test_week*", False),
        ("tests/test_weekly_report.py::test_pdf_layout", "test_week*::*", True),
        ("tests/t.py::TestA::test_one[a::b]", "TestA::test_one[*", True),
        ("tests/t.py::TestA::test_one[x]", "test_one*", True),
        ("tests/t.py::test_10", "test_1", False),
    ],
)
def test_how_a_test_pattern_matches(test_id: str, pattern: str, selected: bool) -> None:
    from apirec.cli.common import test_matches

    assert test_matches(test_id, pattern) is selected


@pytest.mark.parametrize(
    ("test_id", "pattern", "selected"),
    [
        # a parametrized id's brackets are literal, not a glob's character class
        ("tests/test_m.py::test_add[1-2]", "tests/test_m.py::test_add[1-2]", True),
        ("tests/test_m.py::test_add1", "tests/test_m.py::test_add[1-2]", False),
        ("tests/test_m.py::test_add2", "test_add[1-2]", False),
        ("tests/test_m.py::test_xa", "test_x[a]", False),
        ("tests/test_m.py::test_x[a]", "test_x[a]", True),
        ("tests/test_m.py::test_x[a-b]", "test_x[a*]", True),
        # a test named without brackets is each of its parametrized instances, as in pytest
        ("tests/t.py::test_p[one]", "tests/t.py::test_p", True),
        ("tests/t.py::test_p[two]", "test_p", True),
        ("tests/t.py::TestA::test_p[two]", "TestA::test_p", True),
        ("tests/t.py::test_p1", "test_p", False),
        ("tests/t.py::test_p[one]", "test_p[two]", False),
        # a directory is every test under it, at any depth, as in pytest
        ("tests/unit/test_a.py::test_one", "tests/unit", True),
        ("tests/unit/test_a.py::TestK::test_two", "tests/unit/", True),
        ("tests/unit/deep/test_c.py::test_one", "./tests/unit", True),
        ("tests/unit/test_a.py::test_one", "tests/unit/*", True),
        ("tests/unit/test_a.py::test_one", "tests/un", False),
        ("tests/unit2/test_a.py::test_one", "tests/unit", False),
        ("tests/e2e/test_b.py::test_three", "tests/unit/", False),
        # a last ::* is every test below, in classes too
        ("tests/unit/test_a.py::TestK::test_two", "tests/unit/test_a.py::*", True),
        ("tests/unit/test_a.py::TestK::test_two", "test_a.py::*", True),
        ("tests/unit/test_a.py::TestK::test_two", "TestK::*", True),
        ("tests/unit/test_b.py::TestK::test_two", "tests/unit/test_a.py::*", False),
    ],
)
def test_node_ids_directories_and_instances_as_pytest_takes_them(
    test_id: str, pattern: str, selected: bool
) -> None:
    from apirec.cli.common import test_matches

    assert test_matches(test_id, pattern) is selected


def test_prune_of_a_parametrized_node_id_deletes_that_test_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # happened: [1-2] read as a character class, so test_add1 and test_add2 went too
    ids = [
        "tests/test_m.py::test_add[1-2]",
        "tests/test_m.py::test_add1",
        "tests/test_m.py::test_add2",
    ]
    root = _store(tmp_path / "rec", ids)
    assert main(["prune", str(root), "--test", ids[0]]) == 0
    out, err = capsys.readouterr()
    assert "deleted 1 recording" in out and err == ""
    assert _remaining(capsys, root) == set(ids[1:])


def test_prune_and_ls_of_a_directory_select_every_test_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = ["tests/unit/test_a.py::test_one", "tests/unit/test_a.py::TestK::test_two"]
    root = _store(tmp_path / "rec", [*unit, "tests/e2e/test_b.py::test_three"])
    assert main(["ls", str(root), "--json", "--test", "tests/unit"]) == 0
    import json

    assert {r["test_id"] for r in json.loads(capsys.readouterr().out)} == set(unit)
    assert main(["prune", str(root), "--test", "tests/unit/"]) == 0
    out, err = capsys.readouterr()
    assert "deleted 2 recordings" in out and err == ""
    assert _remaining(capsys, root) == {"tests/e2e/test_b.py::test_three"}


@pytest.mark.parametrize(
    ("test_id", "pattern", "selected"),
    [
        # a test file, as users type it to pytest: every test in it
        ("tests/test_api.py::test_login", "tests/test_api.py", True),
        ("tests/test_api.py::TestA::test_one[x]", "tests/test_api.py", True),
        ("tests/test_api.py::test_login", "./tests/test_api.py", True),
        ("tests/test_api.py::test_login", "test_api.py", True),
        ("tests/test_api.py::test_login", "tests/test_*.py", True),
        ("tests/test_api.py::test_login", "test_a*.py", True),
        # a path from the root is the whole path, as for node ids
        ("integration/tests/test_api.py::test_login", "tests/test_api.py", False),
        ("tests/test_api.py::test_login", "tests/test_apis.py", False),
        ("tests/test_api.py::test_login", "test_ap.py", False),
    ],
)
def test_a_test_file_selects_every_test_in_it(test_id: str, pattern: str, selected: bool) -> None:
    from apirec.cli.common import test_matches

    assert test_matches(test_id, pattern) is selected


def test_prune_of_a_test_file_deletes_its_tests_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # happened: `prune --test tests/test_api.py` matched no node id and deleted nothing, silently
    root = _store(
        tmp_path / "rec",
        ["tests/test_api.py::test_login", "tests/test_api.py::test_logout", "tests/test_b.py::t"],
    )
    assert main(["prune", str(root), "--test", "tests/test_api.py"]) == 0
    out, err = capsys.readouterr()
    assert "deleted 2 recordings" in out and err == ""
    assert _remaining(capsys, root) == {"tests/test_b.py::t"}


@pytest.mark.parametrize("command", ["prune", "ls"])
@pytest.mark.parametrize(
    ("option", "pattern", "said"),
    [
        ("--test", "tests/test_nope.py", "--test 'tests/test_nope.py' matches no recording's test"),
        ("--test", "test_logn", "--test 'test_logn' matches no recording's test"),
        ("--function", "app.aks", "--function 'app.aks' matches no recording's function"),
    ],
)
def test_a_pattern_that_matches_nothing_is_said_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, pattern: str,
    said: str,
) -> None:  # fmt: skip
    root = _store(tmp_path / "rec", ["tests/test_api.py::test_login"])
    assert main([command, str(root), option, pattern]) == 0
    err = capsys.readouterr().err
    assert f"apirec: {said} under {root}" in err
    assert _remaining(capsys, root) == {"tests/test_api.py::test_login"}


def test_patterns_that_match_but_not_together_say_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # each pattern names something that exists: the empty result is the answer, not a typo
    root = _store(tmp_path / "rec", ["tests/test_api.py::test_login"])
    with apirec.recording(root, mode="record", test_id="tests/test_api.py::test_logout"):
        tell(1)
    assert main(["prune", str(root), "--test", "test_logout", "--function", "ask"]) == 0
    out, err = capsys.readouterr()
    assert "deleted 0 recordings" in out and err == ""


MANY = """
import pytest
import svc


class TestK:
    def test_m(self, apirec):
        svc.ask("m")


class TestOuter:
    def test_outer(self, apirec):
        svc.ask("outer")

    class TestInner:
        def test_deep(self, apirec):
            svc.ask("deep")


@pytest.mark.parametrize("n", [1, 10])
def test_num(apirec, n):
    svc.ask(n)
"""


def test_patterns_select_what_pytest_selects(pytester: pytest.Pytester) -> None:
    """``--test P`` against ``pytest --collect-only P`` (issue 20): a class's node id, a bare
    or ``./`` directory, an absolute path, ``..`` and ``//`` selected nothing."""
    pytester.makeini("[pytest]\npythonpath = .\n")
    pytester.makepyfile(svc="import apirec\nask = apirec.record(name='svc.ask')(lambda q: q)\n")
    sub = pytester.mkdir("tests") / "sub"
    sub.mkdir()
    (sub / "test_many.py").write_text(MANY)
    pytester.runpytest("-p", "no:cacheprovider", "--apirec-mode=record").assert_outcomes(passed=5)
    root = str(pytester.path)
    for pattern in [
        "tests/sub/test_many.py::TestK",
        "tests/sub/test_many.py::TestOuter",
        "tests/sub/test_many.py::TestOuter::TestInner",
        "tests/sub/test_many.py::TestOuter::TestInner::test_deep",
        "tests",
        "./tests",
        "tests/",
        "tests/sub",
        f"{root}/tests/sub/test_many.py::test_num",
        "tests/sub/../sub/test_many.py::test_num",
        "tests//sub/test_many.py::test_num",
        "./tests/sub/test_many.py::TestK",
    ]:
        collected = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider", pattern)
        wanted = sorted(line for line in collected.outlines if "::" in line)
        assert wanted, pattern
        assert _listed(pattern) == wanted, pattern


def _listed(pattern: str) -> list[str]:
    import contextlib
    import io
    import json

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["ls", "tests", "--json", "--test", pattern]) == 0
    return sorted(r["test_id"] for r in json.loads(out.getvalue()))


def test_a_pattern_that_selects_nothing_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _store(tmp_path / "rec", ["tests/sub/test_many.py::TestK::test_m"])
    assert main(["ls", str(root), "--test", "tests/sub/test_many.py::TestKK"]) == 0
    assert "matches no recording's test" in capsys.readouterr().err
