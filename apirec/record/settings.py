"""One frozen settings object for a recording, and where each value comes from.

Precedence, highest first: pytest marker > command line > ini file > environment
(``APIREC_MODE``, ``APIREC_BLOCK_NETWORK``, ``APIREC_ALLOW_HOSTS``, ``APIREC_MAX_AGE``,
``APIREC_EXPIRED``, ``APIREC_REPEATS``, ``APIREC_REMOTE``) > defaults.
:func:`apirec.recording` takes its arguments as the top layer.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from apirec.errors import InvalidStore
from apirec.gate.rules import NO_RULES, Rules, Scrub, compile_rules
from apirec.guard.hosts import HostRules
from apirec.record import error_policy
from apirec.record.error_policy import StoreErrors
from apirec.record.expiry import layered, parse_max_age, parse_on_expired
from apirec.record.layers import first_given
from apirec.record.modes import Mode, parse_mode, resolve_mode
from apirec.record.pacing import layered as layered_timing
from apirec.record.pacing import parse_replay_timing
from apirec.record.record_advice import MODE_ARGUMENT, argument_site
from apirec.record.sequences import layered as layered_repeats
from apirec.record.sequences import parse_repeats
from apirec.streams.finishing import DEFAULT_REST_CHUNKS, DEFAULT_REST_SECONDS

STORE_KINDS = ("json", "msgpack")
ENV_BLOCK_NETWORK = "APIREC_BLOCK_NETWORK"
ENV_ALLOW_HOSTS = "APIREC_ALLOW_HOSTS"
ENV_REMOTE = "APIREC_REMOTE"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def parse_flag(value: str, source: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case), else a ValueError naming ``source``."""
    text = value.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(
        f"{source}: {value!r} is not a boolean; use one of {', '.join(_TRUE + _FALSE)}"
    )


def split_hosts(value: str) -> tuple[str, ...]:
    """``"a, b,c"`` -> ``("a", "b", "c")``: the command-line and environment spelling."""
    return tuple(part.strip() for part in value.replace("\n", ",").split(",") if part.strip())


# the run-wide levels of the pytest plugin; for one recording both mean "on"
BLOCK_LEVELS = ("all", "recordings", "off")


def _env_block_network() -> bool | None:
    value = os.environ.get(ENV_BLOCK_NETWORK)
    if value and value.strip().lower() in BLOCK_LEVELS[:2]:
        return True
    return None if not value else parse_flag(value, ENV_BLOCK_NETWORK)


def _remote(given: str | None) -> str | None:
    found = first_given(argument=("remote", given), environment=ENV_REMOTE)
    return (found.value or None) if found is not None else None  # "": no remote


def _env_allow_hosts() -> tuple[str, ...]:
    return split_hosts(os.environ.get(ENV_ALLOW_HOSTS, ""))


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
    # None: on in replay mode; False also lets the calls of this recording through when a
    # guarding recording around it is open (see apirec.guard.core)
    block_network: bool | None = None
    allow_hosts: tuple[str, ...] = ()
    # stored answers older than this are expired (apirec.record.expiry); also "30d"
    max_age: dt.timedelta | None = None
    on_expired: str = "warn"
    # which errors of calls are stored: see apirec.record.error_policy
    store_errors: StoreErrors = error_policy.DEFAULT
    # what a call past the end of a recorded sequence gets: "exact" (a miss) or "last";
    # None: not set, so the function's keying decides (apirec.record.sequences)
    repeats: str | None = None
    # the user's scrub= rules for the write gate (apirec.gate.rules), added to the built-in
    scrub: Rules = NO_RULES
    # replay at the recorded pace, times this factor (apirec.record.pacing); None: at once
    replay_timing: float | None = None
    # where payloads over the blob threshold live (DESIGN §15): an object store's URL, and
    # its client's settings (credentials among them: never stored, never keyed)
    remote: str | None = None
    remote_options: Mapping[str, str] = field(default_factory=dict, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict)
    host_rules: HostRules = field(init=False, repr=False, compare=False)

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
        error_policy.check(self.store_errors)
        object.__setattr__(self, "scrub", compile_rules(self.scrub))
        allowed = self.allow_hosts
        endpoints: list[tuple[str, int]] = []
        if self.remote is not None:
            # only a recording with a remote store loads its modules
            from apirec.stores.remote.hosts import remote_endpoints, remote_hosts
            from apirec.stores.remote.objects import check_remote

            check_remote(self.remote, self.remote_options)
            # a replay may fetch its payloads (issue 22): the remote's own hosts, no others;
            # a server it names (an endpoint, an https copy) on its own port only: on
            # loopback, the local model server the recordings were made against stays blocked
            endpoints = list(remote_endpoints(self.remote, self.remote_options))
            if not endpoints:
                allowed = (*allowed, *remote_hosts(self.remote, self.remote_options))
        object.__setattr__(self, "host_rules", HostRules.parse(allowed, endpoints))
        object.__setattr__(self, "max_age", parse_max_age(self.max_age))
        parse_on_expired(self.on_expired)
        if self.repeats is not None:
            parse_repeats(self.repeats)

    @property
    def guards_network(self) -> bool:
        """Whether this recording blocks connections to hosts it does not allow."""
        return self.mode is Mode.REPLAY and self.block_network is not False

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
        block_network: bool | None = None,
        allow_hosts: Iterable[str] | None = None,
        max_age: str | dt.timedelta | None = None,
        on_expired: str | None = None,
        store_errors: StoreErrors = error_policy.DEFAULT,
        repeats: str | None = None,
        scrub: Iterable[Scrub] | Rules = (),
        replay_timing: str | float | None = None,
        remote: str | None = None,
        remote_options: Mapping[str, str] | None = None,
    ) -> Settings:
        if isinstance(trusted_modules, str):
            trusted_modules = (trusted_modules,)
        if isinstance(allow_hosts, str):
            allow_hosts = (allow_hosts,)
        if block_network is not None and not isinstance(block_network, bool):
            raise TypeError(f"block_network must be True, False or None, not {block_network!r}")
        age, action = layered(max_age, on_expired)
        return cls(
            path=path if isinstance(path, Path) else Path(path),
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
            block_network=_env_block_network() if block_network is None else block_network,
            allow_hosts=_env_allow_hosts() if allow_hosts is None else tuple(allow_hosts),
            max_age=age,
            on_expired=action,
            store_errors=store_errors,
            repeats=layered_repeats(repeats),
            scrub=compile_rules(scrub),
            replay_timing=layered_timing(replay_timing),
            remote=_remote(remote),
            remote_options=dict(remote_options or {}),
            # a miss's advice must say to change mode= in the code: no variable overrides it
            extra={} if mode is None else {MODE_ARGUMENT: argument_site()},
        )

    def layered(self, **overrides: Any) -> Settings:
        """A copy with the given values (``None`` means "not set at this layer")."""
        values = {k: v for k, v in overrides.items() if v is not None}
        if "mode" in values:
            values["mode"] = parse_mode(values["mode"])
        if "path" in values:
            values["path"] = Path(values["path"])
        if "replay_timing" in values:
            values["replay_timing"] = parse_replay_timing(values["replay_timing"])
        if values.get("remote") == "":  # "" at a layer: no remote, whatever the layers below
            values["remote"] = None
        if "scrub" in values:  # rules add up across layers, as redact= names do
            values["scrub"] = self.scrub + compile_rules(values["scrub"])
        for name in ("trusted_modules", "allow_hosts"):
            if isinstance(values.get(name), str):
                values[name] = (values[name],)
            if name in values:
                values[name] = tuple(values[name])
        return replace(self, **values)
