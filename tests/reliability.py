"""Helpers shared by the reliability tests: running threads, checking a store afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apirec
from apirec.stores.json_store import TMP_DIR, JsonStore


def decoded_sequences(root: Path) -> dict[str, list[Any]]:
    """Every recording under ``root``, decoded, by key in sequence order.

    Fails on a hole in a sequence, a file that does not decode, or a temporary file left.
    """
    store = JsonStore(root)
    indexes: dict[str, list[int]] = {}
    for key, index, _ in store.entries():
        indexes.setdefault(key, []).append(index)
    sequences: dict[str, list[Any]] = {}
    for key, found in indexes.items():
        assert sorted(found) == list(range(len(found))), f"hole in the sequence of {key}: {found}"
        for index in range(len(found)):
            entry = store.read(key, index)
            assert entry is not None
            body = apirec.decode(entry["response"]["body"], file=store.describe(key, index))
            sequences.setdefault(key, []).append(body)
    tmp = root / TMP_DIR  # removed when a recording closes with it empty
    assert not tmp.exists() or not list(tmp.iterdir()), "temporary files left behind"
    return sequences


def run_threads(worker: Callable[[int], None], n: int) -> None:
    """Run ``worker(0)`` ... ``worker(n - 1)`` in threads at once; fail on any error or hang."""
    errors: list[BaseException] = []
    start = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            start.wait(timeout=30)
            worker(i)
        except BaseException as e:  # reported below: a thread cannot fail the test itself
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if errors:
        raise errors[0]
