"""One frozen settings object for a recording, and where each value comes from.

Precedence, highest first: pytest marker > command line > ini file > environment
(``APIREC_MODE``) > defaults. :func:`apirec.recording` takes its arguments as the top layer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from apirec.errors import InvalidStore
from apirec.record.modes import Mode, parse_mode, resolve_mode

STORE_KINDS = ("json", "msgpack")


@dataclass(frozen=True)
class Settings:
    path: Path = Path("recordings")
    mode: Mode = Mode.REPLAY
    store: str = "json"
    trusted_modules: tuple[str, ...] = ()
    strict_types: bool = True
    test_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.store not in STORE_KINDS:
            raise InvalidStore(
                f"{self.store!r} is not a valid store. Valid stores are: {', '.join(STORE_KINDS)}"
            )

    @classmethod
    def build(
        cls,
        path: str | os.PathLike[str] = "recordings",
        *,
        mode: Mode | str | None = None,
        store: str = "json",
        trusted_modules: Iterable[str] = (),
        strict_types: bool = True,
        test_id: str | None = None,
    ) -> Settings:
        if isinstance(trusted_modules, str):
            trusted_modules = (trusted_modules,)
        return cls(
            path=Path(path),
            mode=resolve_mode(mode),
            store=store,
            trusted_modules=tuple(trusted_modules),
            strict_types=strict_types,
            test_id=test_id,
        )

    def layered(self, **overrides: Any) -> Settings:
        """A copy with the given values (``None`` means "not set at this layer")."""
        values = {k: v for k, v in overrides.items() if v is not None}
        if "mode" in values:
            values["mode"] = parse_mode(values["mode"])
        if "path" in values:
            values["path"] = Path(values["path"])
        if "trusted_modules" in values:
            values["trusted_modules"] = tuple(values["trusted_modules"])
        return replace(self, **values)
