"""The ``apirec`` command line: ``app`` parses and dispatches; one module per group of commands
(``inspect``: ls, show, diff; ``verify``; ``maintain``: prune, convert) over ``common``;
``usage`` reads the usage reports of sharded runs for ``prune --usage``.

Layer: the top, beside ``apirec.pytest``; it may import ``apirec.integrations`` and every layer
below, and the two never import each other. The CLI reads recordings as data and never imports
a type a recording names unless told to trust its package.
"""

from apirec.cli.app import main

__all__ = ["main"]
