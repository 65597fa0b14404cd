"""``apirec scan PATH... [--json]``: secret-shaped values in recordings on disk.

For recordings written by hand, by older versions of apirec or by other recorders: JSON
files (apirec's and any other JSON), msgpack stores (``recordings.apirec``), the large bytes
kept in ``blobs/``, and YAML or text cassettes. Each finding is the file, where in it
(``response.body.__data__.choices[0].message.content``) and the kind (``openai_key``,
``secret_name``, ``url_credentials``...), never the value. The detector is the write gate's
own (:func:`apirec.gate.walk.findings`): scan finds what the gate would have replaced.

What a recording keeps apart is part of it: a response body or large bytes kept in a remote
store (or in ``blobs/``) are read back as replay reads them (:mod:`apirec.cli.answers`: the
local cache, then the remote configured) and scanned in place. A recording whose parts kept
apart cannot be read (no remote configured and not cached, the remote unreachable, an object
missing or altered) is never reported clean: its stored form is scanned, and it is listed as
``not scanned`` with the reason, which fails the scan as a finding does.

Exit 1 when anything is found or left unscanned, 0 when clean, 2 on a usage error. Also a
pre-commit hook (``apirec-scan`` in ``.pre-commit-hooks.yaml``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apirec.cli.answers import Answers
from apirec.cli.base import plural
from apirec.cli.common import OK, PROBLEMS, UsageError
from apirec.cli.progress import Progress
from apirec.errors import StoreError
from apirec.gate.detect import find_spans
from apirec.gate.walk import findings
from apirec.stores import blobs
from apirec.stores.json_listing import TMP_DIR
from apirec.stores.msgpack.store import FILE_NAME

TEXT_SUFFIXES = (".yaml", ".yml", ".txt", ".jsonl")
Found = tuple[str, str, str]  # (file, where, kind)
NOT_SCANNED = "not_scanned"  # the kind of a recording whose parts kept apart were not read


class _Scan:
    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.found: list[Found] = []
        self.unread: list[tuple[str, str]] = []  # (recording, why)

    def resolved(self, entry: Any, where: str, home: Path) -> Any:
        """``entry`` with its parts kept apart read back; when they cannot be, the entry as
        stored (scanned all the same) and the recording noted as not scanned."""
        try:
            return self.answers.resolved(entry, where, home)
        except StoreError as e:
            self.unread.append((where, str(e).removeprefix(f"{where}: ")))
            return entry


def scan(args: argparse.Namespace) -> int:
    for text in args.paths:
        if not Path(text).exists():
            raise UsageError(f"{text}: no such file or directory")
    run = _Scan(Answers(args.remote, "scan"))
    with Progress("scan", "file", quiet=args.quiet) as progress:
        for text in args.paths:
            for file in _files(Path(text)):
                run.found += _scan_file(file, run)
                progress.step()
    found, unread = run.found, run.unread
    if args.json:
        rows = [{"file": f, "path": where, "kind": kind} for f, where, kind in found]
        rows += [{"file": f, "path": "", "kind": NOT_SCANNED, "error": why} for f, why in unread]
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for name, where, kind in found:
            print(f"{name}: {where or '(whole file)'}: {kind}")
        for name, why in unread:
            print(f"{name}: not scanned: {why}")
        files = len({name for name, _, _ in found})
        where = plural(files, "file")
        summary = f"{plural(len(found), 'secret-shaped value')} in {where}" if found else "clean"
        if unread:
            summary = (f"{summary}; " if found else "") + (
                f"{plural(len(unread), 'recording')} not scanned whole: what "
                f"{'it keeps' if len(unread) == 1 else 'they keep'} apart could not be read"
            )
        print(f"apirec scan: {summary}")  # the result, with the findings: stdout
    return PROBLEMS if found or unread else OK


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
        return
    for file in sorted(path.rglob("*")):
        if file.is_file() and TMP_DIR not in file.parts and not file.name.endswith(".idx"):
            yield file


def _scan_file(path: Path, run: _Scan) -> list[Found]:
    if path.name == FILE_NAME:
        return _scan_msgpack(path, run)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise StoreError(f"{path}: cannot be read: {e.strerror or e}", path=str(path)) from None
    if path.suffix == ".json":
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        else:
            if blobs.MARKER in raw:  # parts kept apart: scanned where they belong
                data = run.resolved(data, str(path), path.parent)
            return [(str(path), where.lstrip("."), kind) for where, kind in findings(data)]
    if path.parent.name == "blobs" or path.suffix in TEXT_SUFFIXES or path.suffix == ".json":
        # large bytes kept apart, cassettes of other recorders, JSON that does not parse
        return [(str(path), f"byte {start}", kind) for kind, start, _ in _spans(raw)]
    return []


def _spans(raw: bytes) -> list[tuple[str, int, int]]:
    return find_spans(raw.decode("latin-1"))  # one character per byte: offsets are bytes


def _scan_msgpack(path: Path, run: _Scan) -> list[Found]:
    store = run.answers.store(path.parent)
    found: list[Found] = []
    try:
        for key, index, where in store.entries():
            entry = store.read(key, index, resolve_blobs=False)
            if entry is None:
                continue
            entry = run.resolved(entry, where, path.parent)
            found += [(where, w.lstrip("."), kind) for w, kind in findings(entry)]
    finally:
        store.close()
    return found
