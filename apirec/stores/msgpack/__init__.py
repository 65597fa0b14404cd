"""The compact store: every recording of a directory in one checksummed, indexed file.

``frames`` is the file format; ``index`` the bucketed key index; ``writer`` writes whole store
files and encodes one recording; ``store`` reads and appends (:class:`MsgpackStore`).
"""

from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore
from apirec.stores.msgpack.writer import build

__all__ = ["FILE_NAME", "MsgpackStore", "build"]
