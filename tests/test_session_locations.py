"""The session's books name a store by the real path of its directory (``location_of``),
looked up once per directory, and again whenever the same path names another one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apirec.pytest.session import SessionState


def test_the_real_path_as_resolve_gives_it(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    state = SessionState()
    for path in (tmp_path / "real", tmp_path / "link", tmp_path / "link" / ".." / "link"):
        assert state.location_of(path) == str(path.resolve())
        assert state.location_of(path) == str(path.resolve())  # remembered: the same answer


def test_a_symlink_pointed_elsewhere_names_the_new_directory(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    link = tmp_path / "recordings"
    link.symlink_to(tmp_path / "a")
    state = SessionState()
    assert state.location_of(link) == str(tmp_path / "a")
    link.unlink()
    link.symlink_to(tmp_path / "b")
    assert state.location_of(link) == str(tmp_path / "b")


def test_a_directory_made_anew_behind_a_changed_symlink(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    link = tmp_path / "recordings"
    link.symlink_to(tmp_path / "a")
    state = SessionState()
    assert state.location_of(link) == str(tmp_path / "a")
    shutil.rmtree(tmp_path / "a")
    link.unlink()
    (tmp_path / "c").mkdir()  # may even get the inode "a" had
    link.symlink_to(tmp_path / "c")
    assert state.location_of(link) == str(tmp_path / "c")


def test_a_relative_path_from_each_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("one", "two"):
        (tmp_path / name / "recordings").mkdir(parents=True)
    state = SessionState()
    for name in ("one", "two", "one"):
        monkeypatch.chdir(tmp_path / name)
        assert state.location_of(Path("recordings")) == str(tmp_path / name / "recordings")


def test_a_missing_directory_resolves_as_before(tmp_path: Path) -> None:
    state = SessionState()
    path = tmp_path / "not-yet"
    assert state.location_of(path) == str(path.resolve())
    path.mkdir()
    os.rmdir(path)
    assert state.location_of(path) == str(path.resolve())
