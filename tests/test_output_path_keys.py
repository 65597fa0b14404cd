"""A ``Path`` the recorded call itself writes (an output path): the file the call created does
not change its key, so the replay right after recording finds it (apirec.keys.files); and a
path read for its key stops at the same size as a file object."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import apirec


@apirec.record(name="report.write")
def write_report(topic: str, out: Path) -> int:
    out.write_text(f"report on {topic}\n")  # stands for a service that writes its answer
    return len(topic)


@pytest.mark.parametrize("mode", ["replay", "record-if-missing"])
def test_an_output_path_the_call_wrote_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkdir("out")
    with apirec.recording("recs", mode="record", test_id="t::report") as rec:
        assert write_report("llamas", Path("out/report.txt")) == 6
    assert rec.stats.recorded == 1
    assert Path("out/report.txt").exists()  # written by the recorded call
    with apirec.recording("recs", mode=mode, test_id="t::report") as rec:
        assert write_report("llamas", Path("out/report.txt")) == 6
    assert (rec.stats.replayed, rec.stats.recorded, rec.stats.live) == (1, 0, 0)
    os.remove("out/report.txt")  # a fresh checkout: the file is not there at all
    with apirec.recording("recs", mode="replay", test_id="t::report") as rec:
        assert write_report("llamas", Path("out/report.txt")) == 6
    assert rec.stats.replayed == 1


def test_an_input_path_recorded_by_content_still_misses_when_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    @apirec.record(name="summary")
    def summarize(source: Path) -> str:
        return source.read_text().upper()

    Path("in.txt").write_text("first")
    with apirec.recording("recs", mode="record", test_id="t::in"):
        assert summarize(Path("in.txt")) == "FIRST"
    Path("in.txt").write_text("second")
    with (
        apirec.recording("recs", mode="replay", test_id="t::in"),
        pytest.raises(apirec.RecordingNotFound),
    ):
        summarize(Path("in.txt"))


def test_a_path_larger_than_the_limit_is_refused_naming_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apirec.keys import files

    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 5000)

    @apirec.record
    def upload(file: Path) -> str:
        return "ok"

    with (
        apirec.recording(tmp_path / "rec", mode="record"),
        pytest.raises(apirec.UnhashableArgument) as caught,
    ):
        upload(path)
    text = str(caught.value)
    assert "1000 bytes" in text and "5000 bytes" in text and "'file'" in text


def test_an_output_path_the_call_wrote_compares_with_its_recording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkdir("out")
    with apirec.recording("recs", mode="record", test_id="t::report"):
        write_report("llamas", Path("out/report.txt"))
    with apirec.recording("recs", mode="compare", test_id="t::report") as rec:
        write_report("llamas", Path("out/report.txt"))
    assert [c["outcome"] for c in rec.compared] == ["same"]
