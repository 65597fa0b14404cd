import pytest

import apirec
from apirec.record.modes import resolve_mode


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("live", apirec.Mode.LIVE),
        ("record", apirec.Mode.RECORD),
        ("replay", apirec.Mode.REPLAY),
        ("record-if-missing", apirec.Mode.RECORD_IF_MISSING),
        ("RECORD_IF_MISSING", apirec.Mode.RECORD_IF_MISSING),
        (apirec.Mode.LIVE, apirec.Mode.LIVE),
    ],
)
def test_mode_names(given, expected):
    assert resolve_mode(given) is expected


def test_default_is_replay():
    assert resolve_mode(None) is apirec.Mode.REPLAY
    assert apirec.recording("x").mode is apirec.Mode.REPLAY


def test_environment_sets_the_mode(monkeypatch):
    monkeypatch.setenv("APIREC_MODE", "record-if-missing")
    assert apirec.recording("x").mode is apirec.Mode.RECORD_IF_MISSING
    # the argument wins over the environment
    assert apirec.recording("x", mode="live").mode is apirec.Mode.LIVE


def test_unknown_mode_lists_the_valid_ones():
    with pytest.raises(apirec.InvalidMode) as info:
        apirec.recording("x", mode="recrod")
    message = str(info.value)
    assert "'recrod' is not a valid record mode" in message
    for name in ("live", "record", "replay", "record-if-missing"):
        assert name in message
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, apirec.ApirecError)


def test_unknown_mode_in_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("APIREC_MODE", "sometimes")
    with pytest.raises(apirec.InvalidMode, match="APIREC_MODE"):
        apirec.recording("x")


def test_unknown_store_kind():
    with pytest.raises(apirec.ApirecError, match="'sqlite' is not a valid store") as info:
        apirec.recording("x", store="sqlite")
    assert isinstance(info.value, ValueError) and "json" in str(info.value)
