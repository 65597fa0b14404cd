"""The ``apirec`` command line: ``parser`` builds the arguments with argparse alone and ``app``
dispatches, importing a command's module only when it runs; one module per group of commands
(``inspect``: ls, show, diff; ``verify``; ``maintain``: prune, convert) over ``common`` (and
``base``: exit codes, errors, terminal width); ``progress`` draws long commands' progress on a
terminal; ``usage`` reads the usage reports of sharded runs for ``prune --usage``.

Layer: the top, beside ``apirec.pytest``; it may import ``apirec.integrations`` and every layer
below, and the two never import each other. The CLI reads recordings as data and never imports
a type a recording names unless told to trust its package.
"""

from apirec.cli.app import main

__all__ = ["main"]
