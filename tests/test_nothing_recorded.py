"""A recording in record or record-if-missing mode that intercepted no call says so when it
closes (apirec.NothingRecordedWarning naming its directory); replay and live never warn."""

import warnings

import pytest

import apirec

from .plugin_helpers import setup


@apirec.record(name="nothing.add")
def add(a: int) -> int:
    return a + 1


def undecorated(a: int) -> int:
    return a + 1


@pytest.mark.parametrize("mode", ["record", "record-if-missing"])
def test_a_recording_that_intercepted_nothing_warns_naming_its_directory(tmp_path, mode):
    with (
        pytest.warns(apirec.NothingRecordedWarning) as caught,
        apirec.recording(tmp_path, mode=mode),
    ):
        undecorated(1)  # the usual mistake: the function is not decorated
    (warning,) = caught
    assert str(tmp_path) in str(warning.message) and mode in str(warning.message)
    assert warning.message.path == str(tmp_path)
    assert warning.filename == __file__  # points at the user's `with`
    assert issubclass(apirec.NothingRecordedWarning, UserWarning)


@pytest.mark.parametrize("mode", ["record", "record-if-missing"])
async def test_async_with_and_decorator_warn_too(tmp_path, mode):
    with pytest.warns(apirec.NothingRecordedWarning, match="intercepted no call"):
        async with apirec.recording(tmp_path, mode=mode):
            pass

    @apirec.recording(tmp_path, mode=mode)
    def body():
        return undecorated(2)

    with pytest.warns(apirec.NothingRecordedWarning):
        assert body() == 3


@pytest.mark.parametrize("mode", ["record", "record-if-missing", "replay", "live"])
def test_a_recording_that_intercepted_a_call_does_not_warn(tmp_path, mode):
    with apirec.recording(tmp_path, mode="record"):
        add(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with apirec.recording(tmp_path, mode=mode):
            assert add(1) == 2  # replayed in record-if-missing and replay: still intercepted
        if mode in ("replay", "live"):
            with apirec.recording(tmp_path, mode=mode):
                pass  # nothing is ever recorded in these modes: nothing to warn about


def test_no_warning_when_the_block_fails(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(KeyError), apirec.recording(tmp_path, mode="record"):
            raise KeyError("the real story")  # a warning here would only hide it


def test_each_activation_is_judged_on_its_own(tmp_path):
    rec = apirec.recording(tmp_path, mode="record-if-missing")
    with rec:
        add(5)
    with pytest.warns(apirec.NothingRecordedWarning), rec:
        pass


TESTS = """
import pytest, provider

def test_calls(apirec):
    provider.add(1)

def test_forgets_to_call(apirec):
    provider.fetch("paris")   # not decorated: goes nowhere

@pytest.mark.filterwarnings("ignore::apirec.NothingRecordedWarning")
def test_expected_to_record_nothing(apirec):
    pass
"""


def test_pytest_names_and_counts_the_tests_that_recorded_nothing(pytester):
    setup(pytester)
    pytester.makepyfile(test_n=TESTS)
    result = pytester.runpytest("--apirec-mode=record", "-W", "default")
    result.assert_outcomes(passed=3, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*NothingRecordedWarning: apirec: test_n.py::test_forgets_to_call intercepted no call*",
            "apirec: 0 replayed, 1 recorded, 0 live, 0 missed; 2 tests recorded nothing; *",
        ]
    )
    # under the suite's filterwarnings = error, the test that recorded nothing fails
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=3, errors=1)  # the call passed, its teardown errs
    result = pytester.runpytest()  # replay: nothing to record, nothing to say
    result.assert_outcomes(passed=3)
    assert "recorded nothing" not in result.stdout.str()
