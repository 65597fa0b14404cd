"""What ``apirec run`` hands to every Python process it starts: one variable, resolved once.

The launcher resolves its options (command line > ``APIREC_*`` variables > defaults) in the
directory it was started from and writes the result, as JSON, into ``APIREC_RUN``. Every
Python process started under it (the command and its children, which inherit the
environment) reads the same values, so a child that changes directory still writes to the
same recordings directory, and a child started much later cannot see a different mode.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from apirec.errors import InvalidStore
from apirec.integrations.registry import module_for
from apirec.record.modes import ENV_VAR as ENV_MODE
from apirec.record.modes import Mode, parse_mode
from apirec.record.settings import STORE_KINDS, split_hosts
from apirec.stores.files import record_start

# the activation variable: set, every Python process started under the launcher records
ENV_RUN = "APIREC_RUN"
# fallbacks of the launcher's options, beside APIREC_MODE (the recorder's own)
ENV_DIR = "APIREC_DIR"
ENV_STORE = "APIREC_STORE"
ENV_INTEGRATIONS = "APIREC_INTEGRATIONS"
DEFAULT_DIR = "recordings"
_VERSION = 1


@dataclass(frozen=True)
class RunSettings:
    """The recording every process of one ``apirec run`` opens."""

    mode: str
    dir: str  # absolute
    store: str = "json"
    integrations: tuple[str, ...] = ()
    # when the run began: in record mode every process replaces only answers older than
    # this, never those another process of the same run wrote before it started
    started: float = 0.0

    @classmethod
    def resolve(
        cls,
        *,
        mode: str | None = None,
        dir: str | None = None,
        store: str | None = None,
        integrations: Sequence[str] | None = None,
        environ: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> RunSettings:
        """The given options, else the ``APIREC_*`` variables, else the defaults; checked
        here (a bad mode, store or SDK name is a usage error before anything starts)."""
        env = os.environ if environ is None else environ
        chosen_mode = _mode(mode, env)
        chosen_store = check_store(store or env.get(ENV_STORE) or "json", store)
        names = (
            integrations if integrations is not None else split_hosts(env.get(ENV_INTEGRATIONS, ""))
        )
        checked: list[str] = []
        for name in names:
            module_for(name)  # UnknownIntegration names the known ones
            if name not in checked:
                checked.append(name)
        base = Path(cwd or os.getcwd())
        path = base / (dir or env.get(ENV_DIR) or DEFAULT_DIR)
        started = record_start() if chosen_mode == Mode.RECORD.value else time.time()
        return cls(chosen_mode, str(path.absolute()), chosen_store, tuple(checked), started)

    def to_env(self) -> str:
        return json.dumps({"version": _VERSION, **asdict(self)})

    @classmethod
    def from_env(cls, value: str) -> RunSettings:
        """The settings in ``APIREC_RUN``; a ValueError naming the variable if unreadable."""
        try:
            data = json.loads(value)
            if not isinstance(data, dict) or data.get("version") != _VERSION:
                raise ValueError("not written by this version of apirec")
            return cls(
                str(data["mode"]),
                str(data["dir"]),
                str(data["store"]),
                tuple(str(n) for n in data["integrations"]),
                float(data["started"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{ENV_RUN}={value!r} cannot be read: {e}") from None


def check_store(kind: str, given: str | None = None) -> str:
    """``kind`` if it is a store kind, else an :class:`InvalidStore` naming where it came
    from (``--store`` when it was given, else ``APIREC_STORE``); the parser's check too."""
    if kind not in STORE_KINDS:
        where = "--store" if given else ENV_STORE
        raise InvalidStore(
            f"{kind!r} is not a valid store ({where}). Valid stores are: {', '.join(STORE_KINDS)}"
        )
    return kind


def _mode(given: str | None, env: Mapping[str, str]) -> str:
    if given is not None:
        return parse_mode(given, source="--mode").value
    from_env = env.get(ENV_MODE)
    if from_env:
        return parse_mode(from_env, source=f"environment variable {ENV_MODE}").value
    return Mode.REPLAY.value
