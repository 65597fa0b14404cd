"""``apirec repair DIR``: rewrite damaged msgpack stores without their damage, keeping a backup.

Each msgpack store under DIR is read frame by frame from its start. A store with damage or a
torn last frame is copied, every byte, to ``recordings.apirec.damaged-<UTC time>`` beside it,
then rewritten with every recording that can still be read. A sequence keeps no hole: the
answers after a lost one are left out too (they stay in the backup) and are recorded again,
since renumbering them would give each later call the answer recorded for the call after it.
The report says which bytes were dropped (and what they seem to have held), which recordings
were left out and why, and which were kept. A store with a sequence that has a hole is
rewritten the same way. An index that does not match its file is rebuilt from the frames
(it is derived data: nothing is lost). Intact stores are left as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from apirec.cli.base import plural
from apirec.cli.common import OK, PROBLEMS, error, msgpack_stores
from apirec.errors import StoreError
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore


def repair(args: argparse.Namespace) -> int:
    roots = msgpack_stores(Path(args.path))
    if not roots:
        print(
            f"nothing to repair: no msgpack store under {args.path} (a broken JSON recording "
            f"is one file, which apirec verify names)"
        )
        return OK
    failed = 0
    for root in roots:
        try:
            _repair(root)
        except BrokenPipeError:  # `apirec repair DIR | head`
            raise
        except (StoreError, OSError) as e:
            error(f"{root / FILE_NAME}: not repaired: {e}")
            failed += 1
    return PROBLEMS if failed else OK


def _repair(root: Path) -> None:
    store = MsgpackStore(root, salvage=True)
    try:
        holes = store.holes()
        if not store.damage and store.torn is None and not holes:
            index_problem = store.index_problem()
            n = sum(1 for _ in store.entries())
            if index_problem is None:
                print(f"{store.path}: nothing to repair ({plural(n, 'recording')}, no damage)")
                return
            store.rebuild_index()
            print(
                f"{index_problem}\n  rebuilt {store.index_path.name} from the frames of "
                f"{store.path.name}; the index is derived data, so nothing is lost "
                f"({plural(n, 'recording')})"
            )
            return
        report = store.repair(_backup_path(root))
    finally:
        store.close()
    print(f"{store.path}: repaired; every byte of the damaged file is in {report.backup}")
    for damage, what in report.damage:
        seems = f"; it held {what} (read from the damaged bytes, unchecked)" if what else ""
        print(f"  dropped {damage}{seems}")
    for where, why in report.dropped:
        print(f"  dropped {where}: {why}")
    if any(what is None or "answer" not in what for _, what in report.damage):
        print(
            "  a dropped frame that held no readable key may have been a later answer or a "
            "deletion of any key: re-record the tests of this store if in doubt"
        )
    print(f"  kept {plural(len(report.kept), 'recording')}:")
    for where in report.kept:
        print(f"    {where}")


def _backup_path(root: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = root / f"{FILE_NAME}.damaged-{stamp}"
    n = 1
    while path.exists():
        path = root / f"{FILE_NAME}.damaged-{stamp}-{n}"
        n += 1
    return path
