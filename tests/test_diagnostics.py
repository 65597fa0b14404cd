"""Replay misses outside the plugin: closest stored call, diff, command, bounded cost."""

import pytest

import apirec


@apirec.record(name="diag.search")
def search(query: str, *, limit: int = 5, lang: str = "en") -> list[str]:
    return [f"{query} {i}" for i in range(limit)]


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "rec"
    with apirec.recording(path, mode="record"):
        with apirec.test_context("t.py::test_a"):
            search("llamas in the andes", limit=2)
            search("alpacas", limit=2)
        with apirec.test_context("t.py::test_b"):
            search("llamas in the andes", limit=3)
    return path


def miss(store, test_id, *args, **kwargs):
    with (
        apirec.recording(store, mode="replay"),
        apirec.test_context(test_id),
        pytest.raises(apirec.RecordingNotFound) as info,
    ):
        search(*args, **kwargs)
    return str(info.value)


def test_closest_call_of_the_same_test_with_a_diff(store):
    message = miss(store, "t.py::test_a", "llamas in the andes", limit=2, lang="es")
    assert "Closest stored call of diag.search(): " in message
    assert "recorded by test" not in message  # test_a's own call wins over test_b's
    diff = message.split("arguments, stored -> this call:\n")[1].splitlines()
    assert "    --- stored call" in diff and "    +++ this call" in diff
    assert '    +  "lang": "es",' in diff
    assert '       "limit": 2,' in diff  # unchanged, shown as context
    # mode= in the code decides (miss() gives it), and the test that runs is named
    # (tests/test_plugin_miss_advice.py pastes these commands)
    assert "set mode='record-if-missing' in the apirec.recording(...) call at " in message
    then = "then: pytest tests/test_diagnostics.py::test_closest_call_of_the_same_test_with_a_diff"
    assert then in message  # and the options this suite was run with


def test_closest_call_from_another_test_is_named(store):
    message = miss(store, "t.py::test_c", "llamas in the andes", limit=3)
    assert "recorded by test: t.py::test_b" in message
    assert "same arguments: the key differs by test id" in message


def test_only_the_first_misses_search_the_store(store):
    with apirec.recording(store, mode="replay") as rec, apirec.test_context("t.py::test_a"):
        for n in range(5):
            with pytest.raises(apirec.RecordingNotFound):
                search(f"q{n}")
    searched = ["Closest stored call" in str(m) for m in rec.misses]
    assert searched == [True, True, True, False, False]
    assert "No search for the closest stored call" in str(rec.misses[-1])
    assert rec.stats.missed == 5


def test_an_identical_call_of_another_test_beats_a_poor_match_in_this_one(store):
    # test_b only stored "llamas in the andes" (limit 3); test_a stored exactly this call
    message = miss(store, "t.py::test_b", "alpacas", limit=2)
    assert "recorded by test: t.py::test_a" in message
    assert "same arguments: the key differs by test id" in message
