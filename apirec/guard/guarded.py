"""What the network guard needs of a recording (``apirec.record.recording.Recording`` is one)
or of the pytest run's guard: its settings, where its blocked attempts go, the hosts it was
recorded against. Protocols only, for type checking: the guard never imports the recorder."""

from __future__ import annotations

from typing import Any, Protocol

from apirec.errors import NetworkBlocked
from apirec.guard.hosts import HostRules, RecordedHosts


class GuardSettings(Protocol):
    """What the guard reads of a recording's settings (``apirec.record.settings.Settings``)."""

    @property
    def path(self) -> Any: ...

    @property
    def host_rules(self) -> HostRules: ...

    @property
    def block_network(self) -> bool | None: ...

    @property
    def guards_network(self) -> bool: ...


class Guarded(Protocol):
    """What the guard needs of a recording (``Recording`` is one) or of the run's guard."""

    @property
    def settings(self) -> GuardSettings: ...

    @property
    def blocked(self) -> list[NetworkBlocked]: ...

    def recorded_hosts(self) -> RecordedHosts: ...
