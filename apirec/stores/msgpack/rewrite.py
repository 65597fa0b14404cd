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
from apirec.stores.msgpack.writer import Record, build, sample_positions


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

    A recording that cannot be read fails the rewrite, or, given ``dropped``, is left out
    and listed there. Returns the number written.
    """

    def readable() -> Iterator[Record]:
        for key, index in items:
            try:
                slot, value = store.stored(key, index)
            except StoreError as e:
                if dropped is None:
                    raise
                dropped.append((store.describe(key, index), str(e)))
                continue
            yield key, index, slot.name, slot.written_at, value

    samples = []
    for p in sample_positions(len(items)):
        with contextlib.suppress(StoreError):  # reported when ``readable`` meets it
            samples.append(store.stored(*items[p])[1])
    return build(root, readable(), samples)
