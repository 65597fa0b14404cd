"""What the subcommands share: finding recording files, reading them, printing tables."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from apirec.cli import columns
from apirec.cli.base import MSGPACK_FILE as FILE_NAME
from apirec.cli.base import OK as OK  # the commands' shared names, re-exported
from apirec.cli.base import PROBLEMS as PROBLEMS
from apirec.cli.base import USAGE as USAGE
from apirec.cli.base import UsageError as UsageError
from apirec.cli.base import error as error
from apirec.cli.base import terminal_width
from apirec.cli.patterns import function_matches as function_matches
from apirec.cli.patterns import test_matches as test_matches
from apirec.errors import StoreError, command
from apirec.stores import blobs
from apirec.stores.blob_files import DIR as BLOBS_DIR
from apirec.stores.entry_summary import EntryInfo, info
from apirec.stores.json_listing import FILE_RE
from apirec.stores.json_store import Entry, parse

# Directories never searched for recordings (hidden ones such as .venv, .git and apirec's own
# .apirec-tmp are skipped too), so `apirec ls` from a project root stays quick and quiet.
RECORDINGS_DIR = "recordings"  # where the pytest plugin stores, beside each test file
IN_STORE = "::"  # STORE_FILE::NAME, a recording in a msgpack store (its describe())
INDEX_FILE = FILE_NAME + ".idx"  # a msgpack store's index, beside its file: no recording
_NOT_RECORDINGS = frozenset({"node_modules", "site-packages", "__pycache__", "venv"})


@dataclass(frozen=True)
class Loaded:
    path: Path  # the recording's file, or the msgpack store's file that holds it
    entry: Entry  # as stored: large bytes are references to blobs/ (apirec.stores.blobs)
    info: EntryInfo
    blobs: dict[str, int] = field(default_factory=dict)  # digest -> size, of those references
    name: str | None = None  # its name in a msgpack store's file

    @property
    def where(self) -> str:
        """The recording as messages name it: its file, or ``STORE_FILE::NAME``."""
        return str(self.path) if self.name is None else f"{self.path}{IN_STORE}{self.name}"

    @property
    def home(self) -> Path:
        """The directory it is in (whose ``blobs/`` and pytest ini apply to it)."""
        return self.path.parent


def key_of(path: Path) -> tuple[str, int]:
    m = FILE_RE.match(path.name)
    if m is None:
        return path.stem, 0
    return m["key"], int(m["index"] or 0)


def recording_files(target: Path, *, msgpack: bool = False) -> Iterator[Path]:
    """The recording files at ``target`` (a file, or a directory searched recursively).

    ``msgpack``: the caller reads the msgpack stores there itself (:func:`msgpack_stores`).
    A store's file or its index (``DIR/*`` gives both) stands for the store.
    """
    if target.is_file():
        if target.name in (FILE_NAME, INDEX_FILE):
            if msgpack:
                return
            raise _msgpack_store(target.with_name(FILE_NAME))
        yield target
        return
    if not target.is_dir():
        raise UsageError(f"{target}: no such file or directory")
    # Most commands read JSON files only: a msgpack store left out would look empty or clean.
    if not msgpack and (stores := msgpack_stores(target)):
        raise _msgpack_store(stores[0] / FILE_NAME)
    for path in sorted(target.rglob("*.json")):
        if _searched(target, path) and path.is_file():
            yield path


def recordings_dirs(root: Path) -> list[Path]:
    """The directories named ``recordings`` under ``root`` (the pytest plugin's, beside each
    test file), outermost only, skipping hidden directories and installed packages: what a
    command given no path reads, rather than every JSON file of a project."""
    if root.resolve().name == RECORDINGS_DIR:  # run inside one
        return [root]
    found: list[Path] = []
    for here, dirs, _ in os.walk(root):
        if Path(here).name == RECORDINGS_DIR and Path(here) != root:
            found.append(Path(here))
            dirs[:] = []  # its own subdirectories are its recordings
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _NOT_RECORDINGS)
    return found


def msgpack_stores(target: Path) -> list[Path]:
    """The directories of the msgpack stores at ``target``, searched like
    :func:`recording_files` (a store's index file stands for its store)."""
    if target.is_file():
        is_store = target.name == FILE_NAME or (
            target.name == INDEX_FILE and target.with_name(FILE_NAME).is_file()
        )
        return [target.parent] if is_store else []
    if not target.is_dir():
        raise UsageError(f"{target}: no such file or directory")
    return [p.parent for p in sorted(target.rglob(FILE_NAME)) if _searched(target, p)]


def blob_homes(target: Path) -> list[Path]:
    """The directories under ``target`` (itself included) that hold a ``blobs/`` directory,
    searched like :func:`recording_files`."""
    if not target.is_dir():
        return []
    return [
        found.parent
        for found in sorted(target.rglob(BLOBS_DIR))
        if found.is_dir() and not found.is_symlink() and _searched(target, found)
    ]


def _msgpack_store(path: Path) -> UsageError:
    return UsageError(
        f"{path}: a msgpack store, which this command does not read; "
        f"{command('apirec', 'convert', path.parent, 'OUT', '--to', 'json')} makes a JSON "
        "copy to inspect"
    )


def _searched(target: Path, path: Path) -> bool:
    parts = path.relative_to(target).parts[:-1]
    return not any(p.startswith(".") or p in _NOT_RECORDINGS for p in parts)


def load(path: Path) -> Loaded:
    """Read and check one recording; :class:`StoreError` names the file and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror or e}", path=str(path)) from None
    entry = parse(raw, str(path))
    refs = dict(blobs.references(entry, str(path))) if blobs.MARKER in raw else {}
    key, index = key_of(path)
    size = len(raw) + sum(refs.values())
    summary = info(entry, key, index, str(path), size, tuple(sorted(refs)))
    return Loaded(path, entry, summary, refs)


def load_target(target: str, root: Path) -> Loaded:
    """A recording given as :func:`find` takes it, or as ``STORE_FILE::NAME``: a msgpack
    store's, as apirec's messages and compare reports name it."""
    head, sep, name = target.partition(FILE_NAME + IN_STORE)
    if not sep:
        return load(find(target, root))
    return load_stored(Path(head + FILE_NAME), name)


def load_stored(file: Path, name: str) -> Loaded:
    """The recording ``name`` of the msgpack store whose file is ``file``, as stored."""
    from apirec.stores.json_format import dumps
    from apirec.stores.msgpack.store import MsgpackStore

    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    store = MsgpackStore(file.parent)
    try:
        for key, index, _ in store.entries():
            if store.place(key, index)[1] == name:
                entry = store.read(key, index, resolve_blobs=False)
                if entry is not None:
                    where = f"{file}{IN_STORE}{name}"
                    refs = dict(blobs.references(entry, where))
                    size = len(dumps(entry)) + sum(refs.values())
                    summary = info(entry, key, index, where, size, tuple(sorted(refs)))
                    return Loaded(file, entry, summary, refs, name)
    finally:
        store.close()
    raise UsageError(f"{file}: holds no recording named {name}")


def find(target: str, root: Path) -> Path:
    """A recording given as a file, a key or a key prefix (searched under ``root``)."""
    path = Path(target)
    if path.is_file():
        if path.name == FILE_NAME:
            raise _msgpack_store(path)
        return path
    if "/" in target or target.endswith(".json"):
        raise UsageError(f"{target}: no such file")
    if len(target) < 6:
        raise UsageError(
            f"{target}: no such file, and too short to be a key prefix (give 6+ characters)"
        )
    name, _, index = target.partition(".")
    matches = [
        p
        for p in recording_files(root)
        if key_of(p)[0].startswith(name) and (not index or key_of(p)[1] == int(index))
    ]
    if not index:
        matches = [p for p in matches if key_of(p)[1] == 0] or matches
    if not matches:
        raise UsageError(f"{target}: no recording with this key under {root}")
    if len(matches) > 1:
        listing = "\n  ".join(str(p) for p in matches[:10])
        raise UsageError(f"{target}: matches {len(matches)} recordings:\n  {listing}")
    return matches[0]


class Filters:
    """The ``--function`` and ``--test`` filters of one command, and which of their patterns
    matched some recording (each on its own), so that a pattern that matches nothing (a
    typo, a path the node ids do not have) is said, not taken silently as "no recordings"."""

    def __init__(self, function: str | None, test: str | None) -> None:
        self.function = function
        self.test = test
        self._function_seen = function is None
        self._test_seen = test is None

    def selects(self, info: EntryInfo) -> bool:
        by_function = function_matches(info.function, self.function)
        by_test = test_matches(info.test_id, self.test)
        self._function_seen |= by_function
        self._test_seen |= by_test
        return by_function and by_test

    def say_unmatched(self, where: Path) -> None:
        """On stderr, each pattern that matched no recording under ``where``."""
        if not self._function_seen:
            error(f"--function {self.function!r} matches no recording's function under {where}")
        if not self._test_seen:
            error(
                f"--test {self.test!r} matches no recording's test under {where} (a node id or "
                f"its end after / or ::, a test file, a directory, or a glob; "
                f"see {command('apirec', 'ls', where)})"
            )


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns, keeping its end (``…Completions.create``)."""
    return columns.shorten(text, width)


def shorten_end(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal columns, keeping its start."""
    return columns.shorten_end(text, width)


def _all_digits(column: list[str]) -> bool:
    # a blank cell (no value) is no reason to left-align the numbers around it
    filled = [c for c in column if c]
    return bool(filled) and all(c.replace(",", "").isdigit() for c in filled)


# the narrowest a cut column goes ("…create", "test_repl…"); narrower than that, a table
# whose lines still do not fit is printed as one block of "NAME: value" lines per row
NARROWEST = 8


def table(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    out: TextIO,
    *,
    fit: Mapping[int, str] | None = None,
    right: Collection[int] = (),
) -> None:
    """Left-aligned columns; numbers (all-digit cells, blanks aside) and the columns ``right``
    names (numbers with units: ``45.3k``, ``0.13s``) right-aligned. On a terminal
    (:func:`terminal_width`) lines fit its width: ``fit`` names the columns that may be cut,
    index -> ``"end"`` to keep a cell's end (paths, qualified names), ``"start"`` to keep its
    start; the widest is cut first, down to its header or :data:`NARROWEST` characters. A
    table that cannot fit so is printed as :func:`blocks` instead. A pipe or a file gets
    every cell whole."""
    fit = fit or {}
    cells = [[str(c) for c in row] for row in rows]
    # in terminal columns: a CJK character or an emoji takes two (apirec.cli.columns)
    widths = [max(map(columns.width, col)) for col in zip(headers, *cells, strict=True)]
    numeric = [i in right or _all_digits([r[i] for r in cells]) for i in range(len(headers))]
    limit = terminal_width()
    if limit is not None:
        floor = {i: max(columns.width(headers[i]), NARROWEST) for i in fit}
        excess = sum(widths) + 2 * (len(widths) - 1) - limit
        while excess > 0:
            cuttable = [i for i in fit if widths[i] > floor[i]]
            if not cuttable:  # as narrow as the columns go, and still too wide
                blocks(cells, headers, out, limit, fit)
                return
            widest = max(cuttable, key=lambda i: widths[i])
            widths[widest] -= 1
            excess -= 1
        for i, keep in fit.items():
            cut = shorten if keep == "end" else shorten_end
            for row in cells:
                row[i] = cut(row[i], widths[i])

    def line(row: Sequence[str]) -> str:
        parts = [
            columns.rjust(c, w) if num else columns.ljust(c, w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    print(line(headers), file=out)
    for row in cells:
        print(line(row), file=out)


def blocks(
    rows: Sequence[Sequence[str]],
    headers: Sequence[str],
    out: TextIO,
    width: int,
    fit: Mapping[int, str],
) -> None:
    """A table too wide for ``width`` columns, as one block of ``HEADER: value`` lines per
    row, blocks apart by a blank line; blank cells left out. A value too long for its line is
    cut as :func:`table` cuts its column (``fit``), or else (a column never cut) carried on
    over the next lines. The indent of the first header is the blocks' indent."""
    indent = " " * (len(headers[0]) - len(headers[0].lstrip()))
    labels = [h.strip() + ":" for h in headers]
    label_width = max(len(label) for label in labels) + 1
    room = max(width - len(indent) - label_width, NARROWEST)
    for n, row in enumerate(rows):
        if n:
            print(file=out)
        for i, (label, cell) in enumerate(zip(labels, row, strict=True)):
            value = cell.strip()
            if not value:
                continue
            if i in fit:
                cut = shorten if fit[i] == "end" else shorten_end
                lines = [cut(value, room)]
            else:
                lines = columns.pieces(value, room)
            print(indent + label.ljust(label_width) + lines[0], file=out)
            for more in lines[1:]:
                print(indent + " " * label_width + more, file=out)


def say(text: str, out: TextIO, indent: str = "") -> None:
    """A line of prose after ``indent``, wrapped to the terminal (whole when the output is
    not one); the lines it wraps onto are indented two more spaces."""
    width = terminal_width()
    if width is None or len(indent + text) <= width:
        print(indent + text, file=out)
        return
    wrapped = textwrap.fill(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    print(wrapped, file=out)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
