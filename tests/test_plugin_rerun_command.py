"""Every command a miss prints under pytest is the run's own command, as typed, with its test
selection replaced (issue 20; apirec.pytest.invocation): pasted, it records, and the run
that missed then passes. Under pytest-xdist too, where a worker's own command line is its
start-up line, not the command that was typed."""

from __future__ import annotations

import re
import textwrap

from tests.test_plugin_miss_advice import advice, paste

SERVICE = """
import apirec


@apirec.record(name="svc.ask")
def ask(question):
    return {"answer": question.upper()}
"""


def test_a_miss_while_a_worker_collects_prints_the_typed_command(pytester):
    pytester.makepyfile(svc=SERVICE)
    # a recording a module opens as it is imported: collected by the workers, no test runs
    pytester.makepyfile(
        test_collected="""
        import apirec, svc

        with apirec.recording("recs"):
            ANSWER = svc.ask("collected")


        def test_answer():
            assert ANSWER == {"answer": "COLLECTED"}
        """
    )
    argv = ["-q", "-p", "no:cacheprovider", "-n", "2", "-o", "pythonpath=."]
    result = pytester.runpytest_subprocess(*argv)
    printed = set(advice(result.stdout.str()))
    assert len(printed) == 1, result.stdout.str()
    (command,) = printed
    # was: APIREC_MODE=record-if-missing .../python -u -c 'import sys;exec(eval(...))'
    assert "exec(" not in command
    assert command == "pytest --apirec-mode=record-if-missing " + " ".join(argv)
    pasted = paste(command, pytester.path)
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    pytester.runpytest_subprocess(*argv).assert_outcomes(passed=1)


def project(pytester) -> None:
    """Tests that collect only with the run's options: their code is under src/ (``-o
    pythonpath=src``), a fixture comes from a plugin named with ``-p``, the ini file and the
    recordings' directory are another ini's (``-c other.ini``)."""
    pytester.makefile(".ini", other="[pytest]\napirec_dir = elsewhere/recs\n")
    src = pytester.mkdir("src")
    (src / "svc.py").write_text(SERVICE)
    (src / "helpers.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef question():\n    return 'where'\n"
    )
    tests = pytester.mkdir("tests")
    (tests / "test_fixture.py").write_text(
        textwrap.dedent(
            """
            import svc


            def test_fixture(apirec, question):
                assert svc.ask(question) == {"answer": "WHERE"}
            """
        )
    )


RUN = ["-p", "no:cacheprovider", "-c", "other.ini", "-o", "pythonpath=src", "-p", "helpers"]


def test_the_record_command_keeps_every_option_of_the_run(pytester):
    project(pytester)
    result = pytester.runpytest_subprocess(*RUN, "tests")
    result.assert_outcomes(failed=1)
    (command,) = advice(result.stdout.str())
    # was: pytest tests/test_fixture.py::test_fixture --apirec-mode=... -c other.ini: it
    # did not import svc (no pythonpath=src) nor find the fixture (no -p helpers)
    assert command == (
        "pytest tests/test_fixture.py::test_fixture --apirec-mode=record-if-missing "
        + " ".join(RUN)
    )
    pasted = paste(command, pytester.path)
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    assert list((pytester.path / "elsewhere" / "recs").glob("*.json"))
    pytester.runpytest_subprocess(*RUN, "tests").assert_outcomes(passed=1)


def test_the_marker_advice_keeps_every_option_of_the_run(pytester):
    project(pytester)
    test = pytester.path / "tests" / "test_fixture.py"
    test.write_text(
        "import pytest\n\n"
        + test.read_text().replace("\ndef", '\n@pytest.mark.apirec(mode="replay")\ndef', 1)
    )
    result = pytester.runpytest_subprocess(*RUN, "--apirec-mode", "replay", "tests")
    result.assert_outcomes(failed=1)
    (printed,) = advice(result.stdout.str())
    said = re.fullmatch(
        r"set mode='record-if-missing' in @pytest.mark.apirec on (.+), then: (.+)", printed
    )
    assert said, printed
    # was: then: pytest tests/test_fixture.py::test_fixture, which read pytest.ini, not
    # other.ini, recorded into tests/recordings/, and did not collect
    assert said[2] == "pytest tests/test_fixture.py::test_fixture " + " ".join(RUN)
    test.write_text(test.read_text().replace('mode="replay"', 'mode="record-if-missing"'))
    pasted = paste(said[2], pytester.path)
    assert pasted.returncode == 0, pasted.stdout + pasted.stderr
    test.write_text(test.read_text().replace('mode="record-if-missing"', 'mode="replay"'))
    pytester.runpytest_subprocess(*RUN, "tests").assert_outcomes(passed=1)
