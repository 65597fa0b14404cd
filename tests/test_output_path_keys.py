"""A ``Path`` the recorded call itself writes (an output path): the file the call created does
not change its key, so the replay right after recording finds it (apirec.keys.files); a path
to nothing yet is keyed by its base name, so a test writing under its own temporary directory
replays in the next run (another directory), and a recording that kept it as its text, as
earlier versions did, still replays; and a path read for its key stops at the same size as a
file object."""

from __future__ import annotations

import json
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


@pytest.mark.parametrize("there", [False, True], ids=["absent", "left-by-the-call"])
def test_an_output_path_in_another_runs_directory_replays(tmp_path: Path, there: bool) -> None:
    recs = tmp_path / "recs"
    first, second = tmp_path / "run-1", tmp_path / "run-2"  # two runs' tmp_path
    first.mkdir()
    second.mkdir()
    with apirec.recording(recs, mode="record", test_id="t::report"):
        assert write_report("llamas", first / "report.txt") == 6
    if there:  # the replay's own call wrote it first, as a test that calls twice
        (second / "report.txt").write_text("report on llamas\n")
    with apirec.recording(recs, mode="replay", test_id="t::report") as rec:
        assert write_report("llamas", second / "report.txt") == 6
    assert (rec.stats.replayed, rec.stats.live) == (1, 0)


def test_an_output_path_of_another_name_misses(tmp_path: Path) -> None:
    recs = tmp_path / "recs"
    first, second = tmp_path / "run-1", tmp_path / "run-2"
    first.mkdir()
    second.mkdir()
    with apirec.recording(recs, mode="record", test_id="t::report"):
        write_report("llamas", first / "report.txt")
    with (
        apirec.recording(recs, mode="replay", test_id="t::report"),
        pytest.raises(apirec.RecordingNotFound),
    ):
        write_report("llamas", second / "summary.txt")


# write_report("llamas", Path("out/report.txt")) as apirec 0.1.0 recorded it, before a path
# to nothing was keyed by its base name: its text in the key and the stored arguments
KEPT_AS_TEXT = {
    "test_id": "t::report",
    "recorded_at": "2026-12-07T16:37:12Z",
    "versions": {"apirec": "0.1.0"},
    "request": {
        "function": "report.write",
        "args": {"out": "out/report.txt", "topic": "llamas"},
        "key": "8bded1f1212a651052dd3339630c76a8",
    },
    "response": {"body": 6, "is_streaming": False},
    "id_normalization_mapping": {},
    "ledger": {"seconds": 0.0},
}


@pytest.mark.parametrize("there", [False, True], ids=["absent", "left-by-the-call"])
def test_an_output_path_recorded_as_its_text_still_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, there: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkdir("recs")
    Path("recs/8bded1f1212a651052dd3339630c76a8.json").write_text(json.dumps(KEPT_AS_TEXT))
    os.mkdir("out")
    if there:
        Path("out/report.txt").write_text("report on llamas\n")
    with apirec.recording("recs", mode="replay", test_id="t::report") as rec:
        assert write_report("llamas", Path("out/report.txt")) == 6
    assert rec.stats.replayed == 1
    with (  # its text is its key: another directory is another call
        apirec.recording("recs", mode="replay", test_id="t::report"),
        pytest.raises(apirec.RecordingNotFound),
    ):
        write_report("llamas", Path("elsewhere/report.txt"))


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
