"""Review of issue 22 (point 2): references from a pull request and the local cache."""

from __future__ import annotations

import hashlib
import json

import pytest

import apirec
from apirec.errors import StoreError

CALLS: list[str] = []


@apirec.record(name="tts.speak")
def speak(text):
    CALLS.append(text)
    block = hashlib.sha256(text.encode()).digest()
    return (block * (100 * 1024 // len(block) + 1))[: 100 * 1024]


def _recorded(store_dir, tmp_path, monkeypatch):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    with apirec.recording(store_dir, mode="record", remote=remote):
        speak("hello")
    CALLS.clear()
    return remote


def test_an_altered_size_is_refused_from_a_warm_cache_as_from_a_cold_one(
    store_dir, tmp_path, monkeypatch
):
    remote = _recorded(store_dir, tmp_path, monkeypatch)
    (path,) = store_dir.glob("*.json")
    entry = json.loads(path.read_text())
    entry["response"]["body"]["size"] = 5  # a pull request's edit
    path.write_text(json.dumps(entry))
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cold"))
    with (
        apirec.recording(store_dir, mode="replay", remote=remote),
        pytest.raises(StoreError, match=str(path)),
    ):
        speak("hello")  # control: a cold cache refuses it
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))  # the warm one
    with (
        apirec.recording(store_dir, mode="replay", remote=remote),
        pytest.raises(StoreError, match=str(path)),
    ):
        speak("hello")
    assert CALLS == []


def test_replay_fetches_from_the_remote_when_the_cache_cannot_be_written(
    store_dir, tmp_path, monkeypatch
):
    remote = _recorded(store_dir, tmp_path, monkeypatch)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would be")
    monkeypatch.setenv("APIREC_CACHE_DIR", str(blocked / "cache"))
    with apirec.recording(store_dir, mode="replay", remote=remote):
        assert len(speak("hello")) == 100 * 1024
    assert CALLS == []
