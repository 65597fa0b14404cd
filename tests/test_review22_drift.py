"""Review of issue 22 (point 1): "the recording in git keeps a small reference and stays
readable". ``apirec drift`` takes the reference of a response body kept in the remote store
(``apirec.json``) for a recorded class that is no longer installed, and fails every checkout
that keeps bodies remotely with "BREAKS REPLAY"."""

from __future__ import annotations

import apirec
from tests.test_cli_remote import cli


@apirec.record(name="docs.fetch")
def fetch_document(name):
    return {"name": name, "pages": [f"page {i}: " + "lorem ipsum " * 20 for i in range(400)]}


def test_drift_passes_a_healthy_recording_whose_body_is_kept_remotely(
    store_dir, tmp_path, monkeypatch
):
    remote = (tmp_path / "objects").as_uri()
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    with apirec.recording(store_dir, mode="record", remote=remote):
        fetch_document("manual")
    with apirec.recording(store_dir, mode="replay", remote=remote):
        assert fetch_document("manual")["name"] == "manual"  # it replays
    drift = cli("drift", str(store_dir), cache=tmp_path / "cache")
    assert "apirec.json" not in drift.stdout
    assert drift.returncode == 0, drift.stdout + drift.stderr
