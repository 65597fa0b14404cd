"""The remote objects a checkout's recordings refer to, for ``push``, ``pull``, ``gc`` and
``verify``: one walk over the JSON recordings under the directories given, each file read
once and parsed only when its bytes hold a reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from apirec.cli.common import recording_files
from apirec.errors import StoreError
from apirec.stores.json_store import parse
from apirec.stores.remote import references as remote_references


@dataclass
class Wanted:
    """An object some recordings refer to: its digest and size, the first recording that
    refers to it (named in messages) and how many do."""

    digest: str
    size: int
    recording: Path
    count: int = 1


@dataclass
class Walk:
    objects: dict[str, Wanted]  # by digest, in the order first met
    recordings: int  # files read
    problems: list[str]  # recordings that cannot be read: which objects they need is unknown


def walk(dirs: Sequence[str], step: Callable[[], None] = lambda: None) -> Walk:
    found: dict[str, Wanted] = {}
    problems: list[str] = []
    files = 0
    for directory in dirs:
        # msgpack stores keep their payloads inside their file: no remote references
        for path in recording_files(Path(directory), msgpack=True):
            files += 1
            step()
            try:
                refs = references_of(path)
            except StoreError as e:
                problems.append(str(e))
                continue
            for digest, size in refs:
                known = found.get(digest)
                if known is None:
                    found[digest] = Wanted(digest, size, path)
                elif known.size != size:
                    problems.append(
                        f"{path}: refers to the object {digest} as {size:,} bytes, where "
                        f"{known.recording} says {known.size:,}: one of them was altered"
                    )
                else:
                    known.count += 1
    return Walk(found, files, problems)


def references_of(path: Path) -> list[tuple[str, int]]:
    """``(digest, size)`` of each remote object the recording file ``path`` refers to."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror or e}", path=str(path)) from None
    if remote_references.MARKER not in raw:
        return []
    entry = parse(raw, str(path))
    return list(remote_references.references(entry, str(path)))
