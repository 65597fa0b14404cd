"""The pytest plugin (``startup``, the entry point: options, marker, the ``apirec`` fixture;
``plugin``, loaded when a run first uses a recording: settings per test, the fixture's
recording) and its session bookkeeping (``session``: stats, summary, unused recordings, xdist
merging; ``usage``: the usage report of ``--apirec-usage`` for pruning after sharded runs).

Layer: the top, beside ``apirec.cli``; it may import ``apirec.integrations`` and every layer
below, and the two never import each other. Loaded by pytest through the ``pytest11`` entry
point (``apirec.pytest.startup``), never by ``import apirec``.
"""

from __future__ import annotations

import sys


def _import_plainly() -> None:
    """Take apirec's own modules out of pytest's assertion rewriting.

    pytest rewrites the asserts of every module of a distribution with a ``pytest11`` entry
    point, so in a regular install each apirec module a run imports goes through its rewrite
    hook: the source read and hashed, the code unmarshalled from a file object, about eight
    times a plain import (31M instructions for the start-up alone, more once a recording loads
    the recorder). apirec's asserts are not for its users to read, so its modules from here on
    import plainly. The hook's marks are private: if pytest renames them this does nothing
    and the modules are rewritten as before. Only ``apirec`` is unmarked: the user's test files,
    conftests and other plugins are rewritten as always.
    """
    package = __name__.partition(".")[0]
    for finder in sys.meta_path:
        if type(finder).__name__ != "AssertionRewritingHook":
            continue
        marked = getattr(finder, "_must_rewrite", None)
        decided = getattr(finder, "_marked_for_rewrite_cache", None)
        if isinstance(marked, set) and isinstance(decided, dict):
            marked.discard(package)
            for name in [n for n in decided if n == package or n.startswith(package + ".")]:
                del decided[name]


_import_plainly()
