"""``apirec prune`` (delete chosen recordings) and ``apirec convert`` (json <-> msgpack)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from apirec.errors import ApirecError, StoreError
from apirec.recorder import open_store
from apirec.settings import Settings
from apirec.store import Store

from .common import OK, PROBLEMS, UsageError, error, load, matches, recording_files


def prune(args: argparse.Namespace) -> int:
    """Delete the recordings matching every filter given; at least one filter is required."""
    if args.function is None and args.test is None and not args.shared:
        raise UsageError("prune needs --test, --function or --shared (it never deletes all)")
    doomed: list[Path] = []
    broken = 0
    for path in recording_files(Path(args.path)):
        try:
            info = load(path).info
        except StoreError as e:
            error(f"{e} (left in place)")
            broken += 1
            continue
        if args.shared and info.test_id is not None:
            continue
        if matches(info.function, args.function) and matches(info.test_id, args.test):
            doomed.append(path)
    verb = "would delete" if args.dry_run else "deleted"
    for path in doomed:
        if not args.dry_run:
            try:
                os.unlink(path)
            except OSError as e:
                error(f"{path}: cannot be deleted: {e.strerror or e}")
                broken += 1
                continue
        print(f"{verb} {path}")
    print(f"{verb} {len(doomed)} recordings")
    return PROBLEMS if broken else OK


def _open(path: Path, kind: str) -> Store:
    try:
        return open_store(Settings(path=path, store=kind))
    except ApirecError as e:
        raise ConvertError(f"cannot open {path} as a {kind} store: {e}") from None


class ConvertError(Exception):
    pass


def convert(args: argparse.Namespace) -> int:
    """Copy every recording of SRC into the empty store DST of the other kind."""
    to = args.to
    source_kind = "msgpack" if to == "json" else "json"
    src, dst = Path(args.src), Path(args.dst)
    if not src.exists():
        raise UsageError(f"{src}: no such file or directory")
    try:
        source = _open(src, source_kind)
        target = _open(dst, to)
        if next(iter(target.entries()), None) is not None:
            raise ConvertError(f"{dst} already holds recordings; convert into an empty place")
        count = 0
        for key, index, where in source.entries():
            entry = source.read(key, index)
            if entry is None:  # a file in a subdirectory: another store
                continue
            slot = target.write(key, entry, start=index)
            if slot != index:
                raise ConvertError(f"{where}: stored as answer {slot}, expected {index}")
            count += 1
        close = getattr(target, "close", None)
        if callable(close):
            close()
    except (ConvertError, ApirecError) as e:
        error(str(e))
        return PROBLEMS
    print(f"converted {count} recordings from {src} ({source_kind}) to {dst} ({to})")
    return OK
