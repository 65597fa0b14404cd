"""Where recordings live: the JSON directory store, the msgpack store, files, conversion.

``json_store`` is the default store (one pretty JSON file per answer); ``msgpack`` the compact
single-file store; ``files`` the file-system care both need (regular files only, leftover
temporary files, the clock); ``blobs`` swaps bytes over 64 KiB for references to
``blobs/<sha256>`` and back, and ``blob_files`` keeps those files (the JSON store's);
``entry_summary`` says what a stored recording is about, for people; ``convert`` turns one
kind of store into the other; ``gated`` is the one place every write passes the write gate.

Public entry points: ``apirec.stores.msgpack.MsgpackStore`` and
``apirec.stores.convert.convert``. Everything else here is private.

Layer: above ``apirec.gate``; it may import ``apirec.gate``, ``apirec.codec`` and
``apirec.errors``. A store
moves entries (plain JSON-ready dicts) and never decodes them.
"""
