"""Command-line options that also reach the environment for the run, and putting it back.

Options such as ``--apirec-mode`` and ``--apirec-max-age`` are copied into ``APIREC_*``
variables so that recordings a conftest opens itself follow them; the values they replaced
are restored when pytest unconfigures.
"""

from __future__ import annotations

import os


def restore(saved: dict[str, str | None]) -> None:
    """Put back the variables as they were: ``None`` means it was not set."""
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
