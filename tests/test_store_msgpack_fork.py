"""A forked child writing the msgpack store its parent has open (multiprocessing's default
on Linux, gunicorn's and uvicorn's prefork workers under ``apirec run``) must not share its
parent's open file: ``flock`` belongs to the open file, so the two would not exclude each
other and their appends would land on each other."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest

from apirec.stores.msgpack import MsgpackStore

N_CHILDREN, N_WRITES = 4, 150


def entry(i: int, j: int) -> dict[str, object]:
    return {"test_id": None, "request": {"i": i, "j": j}, "response": {"body": "x" * 2000}}


def _child(store: MsgpackStore, i: int) -> None:
    for j in range(N_WRITES):
        store.write(f"k{i}x{j}", entry(i, j))


@pytest.mark.skipif(sys.platform == "win32", reason="no fork")
def test_forked_children_append_to_the_store_their_parent_has_open(tmp_path: Path) -> None:
    store = MsgpackStore(tmp_path)
    store.write("parent", entry(-1, -1))  # the data file is open here before the fork
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_child, args=(store, i)) for i in range(N_CHILDREN)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    assert [c.exitcode for c in children] == [0] * N_CHILDREN

    fresh = MsgpackStore(tmp_path)  # raises if any frame was damaged
    assert len(list(fresh.entries())) == 1 + N_CHILDREN * N_WRITES
    assert fresh.read("k3x149", 0) == entry(3, 149)
    # the parent goes on writing to its own file afterwards
    store.write("parent-again", entry(-2, -2))
    assert MsgpackStore(tmp_path).read("parent-again", 0) == entry(-2, -2)
