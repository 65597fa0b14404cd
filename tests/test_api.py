from pathlib import Path

import apirec

# The names DESIGN.md promises; the contract with users.
PROMISED = {
    "record", "recording", "patch", "test_context", "register_type", "encode", "decode",
    "Mode", "ApirecError", "RecordingNotFound", "DecodeError", "UnhashableArgument",
    "StoreError", "ReplayedError", "IncompleteRecording", "NothingRecordedWarning",
    "NetworkBlocked", "ExpiredRecording", "ExpiredRecordingWarning", "InvalidExpiry",
}  # fmt: skip


def test_public_api_is_exactly_all():
    assert set(apirec.__all__) >= PROMISED
    # dir(): the names loaded on first use (PEP 562) count as well
    public = {n for n in dir(apirec) if not n.startswith("_") and n != "annotations"}
    # modules are importable but not part of the API
    names = {n for n in public if type(getattr(apirec, n)).__name__ != "module"}
    assert names == set(apirec.__all__)


def test_every_public_name_has_a_docstring():
    for name in apirec.__all__:
        assert getattr(apirec, name).__doc__, name


def test_package_is_typed():
    assert (Path(apirec.__file__).parent / "py.typed").exists()


def test_recording_not_found_is_an_assertion_error():
    assert issubclass(apirec.RecordingNotFound, AssertionError)
    for name in (
        "RecordingNotFound",
        "DecodeError",
        "UnhashableArgument",
        "StoreError",
        "ReplayedError",
        "IncompleteRecording",
    ):
        assert issubclass(getattr(apirec, name), apirec.ApirecError)
    assert issubclass(apirec.IncompleteRecording, apirec.RecordingNotFound)


def test_expiry_names_sit_where_callers_catch_them():
    assert issubclass(apirec.ExpiredRecording, apirec.RecordingNotFound)  # a failed test
    assert issubclass(apirec.InvalidExpiry, apirec.ApirecError)
    assert issubclass(apirec.InvalidExpiry, ValueError)
    assert issubclass(apirec.ExpiredRecordingWarning, UserWarning)
    assert not issubclass(apirec.ExpiredRecordingWarning, apirec.ApirecError)
