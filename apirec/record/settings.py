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
from apirec.streams.finishing import DEFAULT_REST_CHUNKS, DEFAULT_REST_SECONDS

STORE_KINDS = ("json", "msgpack")


@dataclass(frozen=True)
class Settings:
    path: Path = Path("recordings")
    mode: Mode = Mode.REPLAY
    store: str = "json"
    trusted_modules: tuple[str, ...] = ()
    strict_types: bool = True
    test_id: str | None = None
    # how much of a stream's rest is read after the caller stopped (DESIGN §5)
    stream_rest_chunks: int = DEFAULT_REST_CHUNKS
    stream_rest_seconds: float = DEFAULT_REST_SECONDS
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.store not in STORE_KINDS:
            raise InvalidStore(
                f"{self.store!r} is not a valid store. Valid stores are: {', '.join(STORE_KINDS)}"
            )
        chunks, seconds = self.stream_rest_chunks, self.stream_rest_seconds
        if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 0:
            raise ValueError(f"stream_rest_chunks must be an int >= 0, not {chunks!r}")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
            raise ValueError(f"stream_rest_seconds must be a number >= 0, not {seconds!r}")

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
        stream_rest_chunks: int | None = None,
        stream_rest_seconds: float | None = None,
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
            stream_rest_chunks=(
                DEFAULT_REST_CHUNKS if stream_rest_chunks is None else stream_rest_chunks
            ),
            stream_rest_seconds=(
                DEFAULT_REST_SECONDS if stream_rest_seconds is None else stream_rest_seconds
            ),
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
