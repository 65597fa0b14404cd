"""Review of issue 20 point 14: the note of a final transient error (``.apirec-transient`` in
the store's directory) is written with ``json.dump``, not through the write gate, so a
credential in the error's message reaches disk (and the repository the recordings are committed
to). The same error stored by ``store_errors="all"`` would be scrubbed by the gate."""

from __future__ import annotations

import contextlib
import socket
import warnings
from pathlib import Path

import requests

import apirec
from apirec.errors import RecordingNotFound, TransientErrorWarning

SECRET = "AIzaSyD4xQ2b9-aSecretGoogleKey0123456"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connection refused, a transient error
    return port


def test_a_transient_errors_note_keeps_no_credential(tmp_path: Path) -> None:
    port = _closed_port()

    @apirec.record
    def geocode(city: str) -> object:  # a requests-based SDK, patched as the docs say
        url = f"http://127.0.0.1:{port}/geocode?city={city}&key={SECRET}"
        return requests.get(url, timeout=2).json()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with (
            apirec.recording(tmp_path, mode="record"),
            contextlib.suppress(requests.ConnectionError),
        ):
            geocode("Paris")
    leaked = [
        p.name for p in tmp_path.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    # happened: [".apirec-transient"] holding "...Max retries exceeded with url:
    # /geocode?city=Paris&key=AIzaSy..."
    assert leaked == []


def test_the_note_honours_the_umask_as_recording_files_do(tmp_path: Path) -> None:
    # issue 20 point 7: files apirec writes in a recordings directory honour the umask
    import os
    import stat

    port = _closed_port()

    @apirec.record
    def ping() -> object:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=2)

    old = os.umask(0o022)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with (
                apirec.recording(tmp_path, mode="record"),
                contextlib.suppress(requests.ConnectionError),
            ):
                ping()
    finally:
        os.umask(old)
    note = tmp_path / ".apirec-transient"
    assert note.is_file()
    # happened: 0o600 (tempfile.mkstemp), not 0o644
    assert stat.S_IMODE(note.stat().st_mode) == 0o644


def test_the_warning_and_the_replay_miss_keep_no_credential(tmp_path: Path) -> None:
    port = _closed_port()

    @apirec.record
    def geocode(city: str) -> object:
        url = f"http://127.0.0.1:{port}/geocode?city={city}&key={SECRET}"
        return requests.get(url, timeout=2).json()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with (
            apirec.recording(tmp_path, mode="record"),
            contextlib.suppress(requests.ConnectionError),
        ):
            geocode("Paris")
    told = [str(w.message) for w in caught if isinstance(w.message, TransientErrorWarning)]
    assert len(told) == 1 and "geocode" in told[0]
    assert SECRET not in told[0]
    with apirec.recording(tmp_path, mode="replay"):
        try:
            geocode("Paris")
        except RecordingNotFound as miss:
            text = str(miss)
        else:
            raise AssertionError("replay found an answer that was never stored")
    assert "transient error that was not stored" in text
    assert SECRET not in text
