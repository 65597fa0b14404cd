"""The compact store: every recording of a directory in one checksummed, indexed file.

``frames`` is the file format; ``index`` the bucketed key index; ``scanning`` walks the frames
and tells damage from a torn tail; ``file`` owns the data file (opening, locking, appending);
``reading`` turns a slot into a recording; ``writer`` writes whole store files and encodes one
recording; ``rewrite`` compacts and repairs; ``session_index`` indexes what a session wrote as
it ends; ``store`` is the Store (:class:`MsgpackStore`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The store's one file. Named here, in a package that loads nothing else until asked (PEP
# 562): whoever only needs the name (a miss's hint, the usage report, the writer) loads none
# of the store's nine modules.
FILE_NAME = "recordings.apirec"

if TYPE_CHECKING:
    from apirec.stores.msgpack.store import MsgpackStore
    from apirec.stores.msgpack.writer import build

__all__ = ["FILE_NAME", "MsgpackStore", "build"]


def __getattr__(name: str) -> Any:
    if name == "MsgpackStore":
        from apirec.stores.msgpack.store import MsgpackStore

        return MsgpackStore
    if name == "build":
        from apirec.stores.msgpack.writer import build

        return build
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
