"""The compact store: every recording of a directory in one checksummed, indexed file.

``frames`` is the file format; ``index`` the bucketed key index; ``scanning`` walks the frames
and tells damage from a torn tail; ``file`` owns the data file (opening, locking, appending);
``reading`` turns a slot into a recording; ``writer`` writes whole store files and encodes one
recording; ``rewrite`` compacts and repairs; ``session_index`` indexes what a session wrote as
it ends; ``store`` is the Store (:class:`MsgpackStore`).
"""

from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore
from apirec.stores.msgpack.writer import build

__all__ = ["FILE_NAME", "MsgpackStore", "build"]
