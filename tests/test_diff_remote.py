"""``apirec diff`` on recordings whose answer bodies are kept in a remote store: the bodies
are compared, fetched from the remote found as every command finds it (``--remote``, the
ini file, ``APIREC_REMOTE``), not their digests."""

from __future__ import annotations

from pathlib import Path

import pytest

import apirec
from tests.test_cli_remote import cli

pytest.importorskip("obstore")


@apirec.record(name="docs.fetch")
def fetch(name: str) -> dict:
    return {"name": name, "pages": [f"{name} lorem ipsum " * 30 for _ in range(300)]}


def test_diff_compares_bodies_kept_remotely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("APIREC_CACHE_DIR", str(tmp_path / "cache"))
    remote = (tmp_path / "objects").as_uri()
    recs = tmp_path / "recs"
    with apirec.recording(recs, mode="record", remote=remote):
        with apirec.test_context("tests/test_docs.py::test_manual"):
            fetch("manual")
        with apirec.test_context("tests/test_docs.py::test_guide"):
            fetch("guide")
    a, b = sorted(p.stem for p in recs.glob("*.json"))
    env = {"APIREC_CACHE_DIR": str(tmp_path / "cli-cache")}

    bare = cli("diff", a, b, "--dir", "recs", cwd=tmp_path, **env)
    assert bare.returncode == 1, bare
    # no remote known: an error that says how to give one, not a diff of the references
    assert "lorem ipsum" not in bare.stdout and "--remote URL" in bare.stderr, bare

    fetched = cli("diff", a, b, "--dir", "recs", cwd=tmp_path, APIREC_REMOTE=remote, **env)
    assert fetched.returncode == 1, fetched
    assert "manual lorem ipsum" in fetched.stdout and "guide lorem ipsum" in fetched.stdout
    assert "note:" not in fetched.stdout
