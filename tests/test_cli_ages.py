"""The command line and the recordings' metadata (issue 13 points 1 and 3), run as real
processes: ``apirec ls`` shows each recording's age and filters by it, ``apirec show`` shows
when and with which versions it was made, ``apirec convert`` keeps both, both ways."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from importlib import metadata as importlib_metadata

import pytest
from openai.types.model import Model

import apirec


@apirec.record(name="ages.model")
def model(name):
    return Model(id=name, created=1, object="model", owned_by="me")


def apirec_cli(*argv):
    return subprocess.run(
        [sys.executable, "-m", "apirec", *map(str, argv)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def store(tmp_path):
    """Three recordings: 40 days old, 2 hours old, and one of unknown age."""
    path = tmp_path / "recordings"
    with apirec.recording(path, mode="record"):
        model("old"), model("recent"), model("undated")
    now = dt.datetime.now(dt.UTC)
    files = {}
    for file in path.glob("*.json"):
        entry = json.loads(file.read_text())
        name = entry["request"]["args"]["name"]
        files[name] = file
        if name == "undated":
            del entry["recorded_at"], entry["versions"]
        else:
            ago = dt.timedelta(days=40) if name == "old" else dt.timedelta(hours=2)
            entry["recorded_at"] = (now - ago).strftime("%Y-%m-%dT%H:%M:%SZ")
        file.write_text(json.dumps(entry, indent=2))
    return path, files


def test_ls_shows_each_recordings_age(store):
    path, files = store
    done = apirec_cli("ls", path)
    assert done.returncode == 0, done.stderr
    header, *rows, summary = done.stdout.splitlines()
    assert header.split() == [
        "FUNCTION",
        "TEST",
        "KEY",
        "STREAMED",
        "ERROR",
        "TOKENS",
        "TOOK",
        "AGE",
        "SIZE",
    ]
    ages = {row.split()[2][:12]: row.split()[-2] for row in rows}
    assert ages == {
        files["old"].stem[:12]: "40d",
        files["recent"].stem[:12]: "2h",
        files["undated"].stem[:12]: "?",
    }
    assert summary.startswith("3 recordings, ") and "unknown age" not in summary

    table = apirec_cli("ls", path, "--older-than", "30d").stdout.splitlines()
    assert len(table) == 3 and table[1].split()[-2] == "40d"
    assert table[-1].startswith("1 recording, ")
    assert table[-1].endswith("; 1 of unknown age (no recorded_at) left out")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (["--older-than", "30d"], {"old"}),
        (["--older-than", "1h"], {"old", "recent"}),
        (["--newer-than", "1d"], {"recent"}),
        (["--older-than", "1h", "--newer-than", "1d"], {"recent"}),
        (["--older-than", "50d"], set()),
    ],
)
def test_ls_filters_by_age_and_says_what_it_left_out_for_an_unknown_age(store, filters, expected):
    path, files = store
    names = {str(file): name for name, file in files.items()}
    done = apirec_cli("ls", path, "--json", *filters)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {names[r["path"]] for r in rows} == expected
    assert "apirec: 1 of unknown age (no recorded_at) left out" in done.stderr
    for row in rows:
        recorded = dt.datetime.fromisoformat(row["recorded_at"])
        age = dt.datetime.now(dt.UTC) - recorded
        assert abs(age.total_seconds() - row["age_seconds"]) < 60


def test_ls_json_without_filters_lists_unknown_ages_as_null(store):
    path, files = store
    rows = json.loads(apirec_cli("ls", path, "--json").stdout)
    undated = next(r for r in rows if r["path"] == str(files["undated"]))
    assert undated["recorded_at"] is None and undated["age_seconds"] is None


@pytest.mark.parametrize("option", ["--older-than", "--newer-than"])
def test_ls_bad_age_is_a_usage_error_naming_the_option(store, option):
    done = apirec_cli("ls", store[0], option, "30 days")
    assert done.returncode == 2
    # checked when the arguments are parsed (argparse's usage error), by the command's own check
    assert f"error: argument {option}: '30 days' is not an age. Write a number and a unit" in (
        done.stderr
    )


def test_show_says_when_and_with_which_versions(store):
    _, files = store
    done = apirec_cli("show", files["old"])
    assert done.returncode == 0, done.stderr
    recorded_at = json.loads(files["old"].read_text())["recorded_at"]
    assert f"recorded:  {recorded_at} (40d ago)" in done.stdout
    openai_version = importlib_metadata.version("openai")
    assert f"versions:  apirec {apirec.__version__}, openai {openai_version}" in done.stdout

    undated = apirec_cli("show", files["undated"]).stdout
    assert "recorded:  unknown (no recorded_at: made before apirec stored it" in undated
    assert "versions:  not recorded" in undated


def test_diff_of_the_same_answer_recorded_at_two_times_is_the_same_content(tmp_path):
    for name in ("a", "b"):
        with apirec.recording(tmp_path / name, mode="record"):
            model("same")
    (a,) = (tmp_path / "a").glob("*.json")
    (b,) = (tmp_path / "b").glob("*.json")
    entry = json.loads(b.read_text())
    entry["recorded_at"] = "2020-01-01T00:00:00Z"
    b.write_text(json.dumps(entry, indent=2))
    done = apirec_cli("diff", a, b)
    assert (done.returncode, done.stdout.strip()) == (0, "same recording content")


def test_convert_keeps_recorded_at_and_versions_both_ways(store, tmp_path):
    path, files = store
    packed, back = tmp_path / "packed", tmp_path / "back"
    done = apirec_cli("convert", path, packed, "--to", "msgpack")
    assert done.returncode == 0, done.stderr
    done = apirec_cli("convert", packed, back, "--to", "json")
    assert done.returncode == 0, done.stderr
    for file in files.values():
        assert json.loads((back / file.name).read_text()) == json.loads(file.read_text())
        assert (back / file.name).read_bytes() == file.read_bytes()

    # the msgpack store knows the ages too: the 40-day-old answer is expired there
    with apirec.recording(packed, mode="replay", store="msgpack", max_age="30d", on_expired="fail"):
        assert model("recent").id == "recent"
        assert model("undated").id == "undated"
        with pytest.raises(apirec.ExpiredRecording, match="recorded 40d ago"):
            model("old")
