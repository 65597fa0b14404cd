"""Recording files honour the umask, as every other file the user makes does: the JSON store's
files, its blobs and the msgpack store alike."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import apirec


@apirec.record
def answer(n: int) -> dict[str, object]:
    return {"n": n, "payload": b"x" * (70 * 1024)}  # over 64 KiB: kept in blobs/


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode)
        for p in root.rglob("*")
        if p.is_file() and ".apirec-tmp" not in p.parts
    }


@pytest.mark.parametrize("mask", [0o002, 0o022, 0o027, 0o077])
@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_recording_files_are_created_with_the_umask(
    tmp_path: Path, umask: None, mask: int, store: str
) -> None:
    os.umask(mask)
    with apirec.recording(tmp_path, mode="record", store=store):
        answer(1)
        answer(2)
    modes = _modes(tmp_path)
    assert any(name.endswith((".json", ".apirec")) for name in modes)
    if store == "json":
        assert any(name.startswith("blobs") for name in modes)
    assert set(modes.values()) == {0o666 & ~mask}, modes
