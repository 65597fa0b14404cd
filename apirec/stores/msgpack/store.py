"""The compact store (DESIGN §6): all the recordings of a directory in one append-only file.

Same content as the JSON store, in ``recordings.apirec`` (format:
:mod:`apirec.stores.msgpack.frames`).
Opening reads a fixed-size index table and checks the frames written after the index, so it
takes the same time for 100 or 100,000 recordings; nothing is decompressed or parsed until a
key is asked for. Each write appends one frame under an exclusive ``flock`` (processes) and a
lock (threads), so concurrent writers lose nothing. Reading never changes the file; damage
fails every read and write until ``apirec repair`` (:meth:`MsgpackStore.repair`) rewrites it
(:mod:`apirec.stores.msgpack.file`). :meth:`MsgpackStore.compact`
rewrites the file with only the live recordings and a compression dictionary trained on them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from apirec.errors import StoreError
from apirec.gate.rules import NO_RULES, Rules
from apirec.stores.json_store import Entry, dumps
from apirec.stores.msgpack import frames as fr
from apirec.stores.msgpack import rewrite
from apirec.stores.msgpack.file import StoreFile
from apirec.stores.msgpack.frames import Frame
from apirec.stores.msgpack.writer import FILE_NAME, build, default_name, encode_entry

__all__ = ["FILE_NAME", "MsgpackStore", "build", "stored_entries"]


class MsgpackStore(StoreFile):
    """One file of compressed frames plus its index; see the module docstring.

    ``salvage=True`` (``apirec verify`` and ``repair``): read every frame from the start,
    ignoring the index, serve what is readable despite damage, and append nothing.
    """

    # -- the Store interface --------------------------------------------------------------

    def count(self, key: str) -> int:
        with self._lock:
            self._refresh()
            slots = self._slots(key)
            n = 0
            while n in slots:
                n += 1
            return n

    def read(self, key: str, index: int, *, resolve_blobs: bool = True) -> Entry | None:
        """The stored answer; with ``resolve_blobs`` false, payloads kept in a remote store
        are left as references (for books that need only the test id or the request)."""
        with self._lock:
            self._refresh()
            slot = self._slots(key).get(index)
            if slot is None:
                return None
            entry, refers = self._stored_entry(slot, key, index)
        # payloads kept in a remote store are fetched outside the lock: another thread
        # (the network guard's look at this store) must not wait on a download
        return self.resolved(entry, key, index) if resolve_blobs and refers else entry

    def write(self, key: str, entry: Entry, *, start: int = 0, rules: Rules = NO_RULES) -> int:
        """Append ``entry`` in the first free slot at or after ``start``; return the slot."""
        return self._put(key, entry, start, free=True, rules=rules)

    def replace(self, key: str, index: int, entry: Entry, *, rules: Rules = NO_RULES) -> None:
        """Store ``entry`` in slot ``index``, in place of the answer there (a later frame
        for a slot supersedes the earlier ones)."""
        self._put(key, entry, index, free=False, rules=rules)

    def _put(self, key: str, entry: Entry, start: int, *, free: bool, rules: Rules) -> int:
        # the write gate is in there (and with a remote, the upload of large payloads)
        codec, body, blobs = encode_entry(entry, rules, self.remote, self.describe(key, start))
        with self._lock, self._flocked():
            self._catch_up()
            slots = self._slots(key)
            index = start
            while free and index in slots:
                index += 1
            new: list[Frame] = []
            for d, text in blobs.items():
                if self._view.blob(d) is None:
                    data = fr.compress(text.encode("utf-8"), None)
                    new.append(Frame(fr.BLOB, d, 0, None, time.time(), 0, 0, data))
            zdict = self._dict(self._dict_offset)
            packed = fr.compress(body, zdict)
            new.append(
                Frame(fr.ENTRY, key, index, None, time.time(), self._dict_offset, codec, packed)
            )
            self._append(new)
            return index

    def close_gap(self, key: str, index: int) -> bool:
        """Slot ``index`` of ``key`` will stay empty (its call got no answer): move every answer
        after it down one slot, keeping their order (slots between may still be empty, waiting
        for calls in flight). Returns whether any moved."""
        if self._fd is None and not self.path.exists():
            return False
        with self._lock, self._flocked():
            self._catch_up()
            slots = self._slots(key)
            if index in slots:
                return False
            later = sorted(i for i in slots if i > index)
            moved = [self._refiled(key, i, i - 1) for i in later]
            if not moved:
                return False
            vacated = sorted(set(later) - {i - 1 for i in later})
            self._append(moved + self._deletions(key, vacated))
            return True

    def reset(self, key: str, *, older_than: float) -> None:
        """Drop the answers of ``key`` written before ``older_than`` (``record`` mode).

        Answers written since then, by another process recording at the same time, stay, and
        move down to the first slots so the sequence keeps no holes (as in the JSON store).
        """
        if self._fd is None and not self.path.exists():
            return
        with self._lock, self._flocked():
            self._catch_up()
            slots = self._slots(key)
            run = 0
            while run in slots:
                run += 1
            kept = [i for i in range(run) if slots[i].written_at >= older_than]
            moved = [self._refiled(key, i, j) for j, i in enumerate(kept) if i != j]
            self._append(moved + self._deletions(key, range(len(kept), run)))

    def _refiled(self, key: str, index: int, to: int) -> Frame:
        """The frame of slot ``index``, the same bytes filed as slot ``to``."""
        slot = self._slots(key)[index]
        frame = self._frame(slot.offset, slot.length, self.describe(key, index))
        name = None if frame.name == default_name(key, index) else frame.name
        return dataclasses.replace(frame, index=to, name=name)

    @staticmethod
    def _deletions(key: str, slots: range | list[int]) -> list[Frame]:
        now = time.time()
        return [Frame(fr.DELETE, key, i, None, now, 0, 0, b"") for i in slots]

    def entries(self) -> Iterator[tuple[str, int, str]]:
        """Every recording as ``(key, index, description)``, sorted."""
        for key, index in self._live():
            yield key, index, self.describe(key, index)

    def records(self) -> Iterator[tuple[str | bytes, float, bytes]]:
        """Every recording as ``(file name, written at, exact JSON bytes)``, for conversion;
        one at a time."""
        for key, index in self._live():
            with self._lock:
                slot, value = self.stored(key, index)
            data = value if isinstance(value, bytes) else dumps(value)
            yield slot.name or default_name(key, index), slot.written_at, data

    def _live(self) -> list[tuple[str, int]]:
        with self._lock:
            self._refresh()
            self._view.load_all()
            return sorted((k, i) for k, slots in self._view.keys.items() for i in slots)

    def holes(self) -> list[tuple[str, int, list[int]]]:
        """Each sequence with a hole: (key, the first missing slot, the slots after it).
        Replay counts a sequence's answers up to its first hole, so those after it are never
        reached (``apirec verify`` reports them, ``apirec repair`` drops them)."""
        found: list[tuple[str, int, list[int]]] = []
        by_key: dict[str, list[int]] = {}
        for key, index in self._live():
            by_key.setdefault(key, []).append(index)
        for key, slots in by_key.items():
            first = next((n for n, i in enumerate(slots) if i != n), None)
            if first is not None:
                found.append((key, first, slots[first:]))
        return found

    def index_problem(self) -> str | None:
        """Why the index file does not describe this file's frames, or None (a ``salvage``
        store, which read every frame; with damage, ``repair`` rewrites both anyway)."""
        if not self._salvage or self.damage or not self.index_path.exists():
            return None
        indexed = StoreFile(self.root)
        try:
            with indexed._lock:
                indexed._refresh()
                indexed._view.load_all()
                theirs = ({k: v for k, v in indexed._view.keys.items() if v}, indexed._view.blobs)
                dict_offset = indexed._dict_offset
        except StoreError as e:
            return str(e)
        finally:
            indexed.close()
        self._view.load_all()
        ours = ({k: v for k, v in self._view.keys.items() if v}, self._view.blobs)
        if theirs != ours or dict_offset != self._dict_offset:
            return (
                f"{self.index_path}: the index does not match the frames of {self.path.name} "
                f"(it was damaged, or belongs to another copy of the file)"
            )
        return None

    def rebuild_index(self) -> None:
        """Write the index afresh from the frames (``apirec repair``). The index is derived
        data: rebuilding it loses nothing."""
        with self._lock, self._flocked():
            self._scan()
            self._reindex()

    def compact(self) -> None:
        """Rewrite the file with only the live recordings and a trained dictionary."""
        with self._lock, self._flocked():
            self._catch_up()
            rewrite.rewrite(self, self.root, self._live(), None)
            self._attach(os.open(self.path, os.O_RDWR))

    def repair(self, backup: Path) -> rewrite.Repaired:
        """Copy the file to ``backup``, then rewrite it with every recording that can still
        be read (a ``salvage`` store): ``apirec repair``. Says what it dropped and kept."""
        if not self._salvage:
            raise ValueError("repair needs a store opened with salvage=True")
        with self._lock, self._flocked():
            self._scan()
            bad = [*self.damage, *([self.torn] if self.torn else [])]
            report = rewrite.Repaired(backup, [(d, self.held(d)) for d in bad])
            shutil.copyfile(self.path, backup)
            rewrite.rewrite(self, self.root, self._live(), report.dropped)
            self._attach(os.open(self.path, os.O_RDWR))
            report.kept = [where for _, _, where in self.entries()]
            return report


def stored_entries(root: Path) -> Iterator[tuple[str, Entry | StoreError]]:
    """Every recording of the msgpack store in ``root`` as ``(description, entry)``, with the
    payloads kept in a remote store left as references (what ``gc``, ``push`` and usage
    reports read); a recording that cannot be read comes as its :class:`StoreError`. Raises
    StoreError when the store or its index cannot be read."""
    store = MsgpackStore(root)
    try:
        for key, index, where in list(store.entries()):
            try:
                entry = store.read(key, index, resolve_blobs=False)
            except StoreError as e:
                yield where, e
                continue
            if entry is not None:
                yield where, entry
    finally:
        store.close()
