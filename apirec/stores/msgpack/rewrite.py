"""Writing a msgpack store's file afresh from its live recordings: compaction and repair.

Recordings are read, written and let go one at a time (:func:`apirec.stores.msgpack.writer.
build`), so a rewrite takes memory for one recording and the index, not for the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from apirec.errors import StoreError
from apirec.stores.msgpack.reading import FrameReader
from apirec.stores.msgpack.scanning import Damage
from apirec.stores.msgpack.writer import Record, build, default_name, sample_positions


@dataclass
class Repaired:
    """What ``apirec repair`` did to one store file."""

    backup: Path  # every byte of the damaged file
    damage: list[tuple[Damage, str | None]]  # each unreadable range, what it seems to have held
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (recording, why)
    kept: list[str] = field(default_factory=list)  # the recordings written back


def rewrite(
    store: FrameReader,
    root: Path,
    items: list[tuple[str, int]],
    dropped: list[tuple[str, str]] | None,
) -> int:
    """Write ``root``'s store file afresh with ``items`` (the caller holds the locks).

    A recording that cannot be read fails the rewrite, or, given ``dropped`` (repair), is
    left out and listed there, and so is every later answer of its sequence (``items`` are
    sorted): replay gives a sequence's answers in order and stops at a hole, so an answer
    after a lost one could only be reached as the answer to the wrong call. Renumbering them
    down would give call n the answer recorded for call n + 1; left out (they stay in the
    backup), the sequence is recorded again from the hole. Returns the number written.
    """

    def readable() -> Iterator[Record]:
        lost: dict[str, int] = {}  # key -> its first answer that is missing or unreadable
        expected: dict[str, int] = {}
        for key, index in items:
            if dropped is not None:
                if key not in lost and index != expected.get(key, 0):
                    lost[key] = expected.get(key, 0)
                if key in lost:
                    dropped.append((store.describe(key, index), after_hole(key, lost[key])))
                    continue
            try:
                slot, value = store.stored(key, index)
            except StoreError as e:
                if dropped is None:
                    raise
                dropped.append((store.describe(key, index), str(e)))
                lost[key] = index
                continue
            expected[key] = index + 1
            yield key, index, slot.name, slot.written_at, value

    samples = []
    for p in sample_positions(len(items)):
        with contextlib.suppress(StoreError):  # reported when ``readable`` meets it
            samples.append(store.stored(*items[p])[1])
    return build(root, readable(), samples)


def after_hole(key: str, missing: int) -> str:
    return (
        f"readable, but answer {missing + 1} of its sequence (slot {missing}, "
        f"{default_name(key, missing)}) is lost and replay stops there, so this answer could "
        f"only come back as the answer to the wrong call: it stays in the backup; record the "
        f"calls from answer {missing + 1} on again"
    )
