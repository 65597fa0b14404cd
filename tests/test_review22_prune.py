"""Review of issue 22: a recording whose remote object is missing is counted as "no test
used" it. With --apirec-prune the run then deletes the recording itself: the index a
checkout needs, lost because an object was not pulled yet."""

from __future__ import annotations

import pytest

from .plugin_helpers import setup

TESTS = """
import apirec

@apirec.record(name="docs.fetch")
def fetch(name):
    return {"name": name, "pages": ["lorem ipsum " * 30 for _ in range(300)]}

def test_fetch(apirec):
    try:  # a fallback layer of the code under test
        fetch("manual")
    except Exception:
        pass
"""


@pytest.mark.parametrize(
    "swallowed",
    [
        True,
        False,
    ],
)
def test_a_recording_whose_object_is_missing_is_not_pruned(
    pytester, tmp_path, monkeypatch, swallowed
):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    setup(pytester)
    source = TESTS if swallowed else TESTS.replace("except Exception", "except KeyError")
    pytester.makepyfile(test_remote=source)
    args = ["--apirec-dir=recs", f"--apirec-remote={remote}"]
    pytester.runpytest(*args, "--apirec-mode=record").assert_outcomes(passed=1)
    (recording,) = (pytester.path / "recs").glob("*.json")
    (digest_file,) = (tmp_path / "objects").iterdir()
    digest_file.unlink()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "fresh-cache"))
    pytester.runpytest(*args, "--apirec-prune")
    assert recording.exists()
