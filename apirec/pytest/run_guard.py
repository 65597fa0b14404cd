"""The guard of a whole replay run under ``--apirec-block-network=all`` (loaded only then)."""

from __future__ import annotations

from dataclasses import dataclass, field

from apirec.errors import NetworkBlocked
from apirec.guard import core as guard
from apirec.guard.hosts import HostRules, RecordedHosts


@dataclass(frozen=True)
class _RunSettings:
    path: str
    host_rules: HostRules
    block_network: bool | None = True
    guards_network: bool = True


@dataclass
class RunGuard:
    """No recording, so it was recorded against nothing and lets through only what the run's
    ``allow_hosts`` lists."""

    settings: _RunSettings
    blocked: list[NetworkBlocked] = field(default_factory=list)

    def recorded_hosts(self) -> RecordedHosts:
        return RecordedHosts()


def guard_the_run(allow_hosts: tuple[str, ...] | None, from_environment: str) -> RunGuard:
    """A guard over one test, opened: the command line's or ini's hosts, else the
    environment's (``APIREC_ALLOW_HOSTS``); :func:`apirec.guard.core.on_close` ends it."""
    from apirec.record.settings import split_hosts

    hosts = HostRules.parse(allow_hosts or split_hosts(from_environment))
    run = RunGuard(_RunSettings("--apirec-block-network=all", hosts))
    guard.guard_run(run)
    return run
