"""Ages for the command line: ``apirec ls``'s AGE column and its ``--older-than`` /
``--newer-than`` filters, and the ``recorded:`` / ``versions:`` lines of ``apirec show``.

A recording's age comes from its ``recorded_at`` only, as for expiry
(:mod:`apirec.record.expiry`); one without it has an unknown age (``?``), which neither filter
matches: the listing says how many it left out for that.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass

from apirec.cli.common import Loaded, UsageError
from apirec.errors import InvalidExpiry
from apirec.record.expiry import parse_max_age
from apirec.stores import metadata


@dataclass(frozen=True)
class AgeFilter:
    older_than: dt.timedelta | None
    newer_than: dt.timedelta | None
    now: dt.datetime

    @classmethod
    def of(cls, args: argparse.Namespace) -> AgeFilter:
        bounds = []
        for option in ("older_than", "newer_than"):
            try:
                bounds.append(parse_max_age(getattr(args, option), f"--{option.replace('_', '-')}"))
            except InvalidExpiry as e:
                raise UsageError(str(e)) from None
        return cls(bounds[0], bounds[1], dt.datetime.now(dt.UTC))

    @property
    def active(self) -> bool:
        return self.older_than is not None or self.newer_than is not None

    def age(self, loaded: Loaded) -> dt.timedelta | None:
        return metadata.age(loaded.entry, self.now, loaded.where)

    def keeps(self, age: dt.timedelta | None) -> bool:
        """Whether a recording of this age passes the filters (an unknown age passes none)."""
        if not self.active:
            return True
        if age is None:
            return False
        if self.older_than is not None and not age > self.older_than:
            return False
        return self.newer_than is None or age < self.newer_than


def cell(age: dt.timedelta | None) -> str:
    return "?" if age is None else metadata.format_age(age)


def describe(loaded: Loaded, now: dt.datetime) -> list[str]:
    """The ``recorded:`` and ``versions:`` lines of ``apirec show``."""
    when = metadata.recorded_at(loaded.entry, loaded.where)
    if when is None:
        recorded = "unknown (no recorded_at: made before apirec stored it, or by another tool)"
    else:
        stored = loaded.entry[metadata.RECORDED_AT]
        age = now - when
        ago = "in the future" if age < dt.timedelta(0) else f"{metadata.format_age(age)} ago"
        recorded = f"{stored} ({ago})"
    versions = metadata.versions(loaded.entry)
    listed = ", ".join(f"{name} {version}" for name, version in versions.items())
    return [f"recorded:  {recorded}", f"versions:  {listed or 'not recorded'}"]
