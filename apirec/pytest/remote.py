"""The plugin's side of the remote store (:mod:`apirec.stores.remote`): the marker options
``remote=`` and ``remote_options=``, ``--apirec-remote=URL`` and the ini key
``apirec_remote``; marker > command line > ini > ``APIREC_REMOTE`` > none. ``""`` at a layer
means no remote, whatever the layers below say. Nothing here imports the client library:
it loads when a recording first reads or writes a payload kept remotely."""

from __future__ import annotations

from typing import Any

import pytest

from apirec.errors import InvalidStore
from apirec.record.layers import first_given

MARKER_OPTIONS = ("remote", "remote_options")
_GIVEN = pytest.StashKey[str | None]()  # the command line's or the ini's URL, as given


def _checked(value: Any, options: Any, source: str) -> str | None:
    if value is None:
        return None
    if value == "":
        return ""
    from apirec.stores.remote.objects import check_remote  # only a run with a remote loads it

    try:
        check_remote(value, options)
    except InvalidStore as e:
        raise pytest.UsageError(f"{source}: {e}") from None
    return str(value)


def configure(config: pytest.Config) -> None:
    # the environment's APIREC_REMOTE is the next layer: Settings.build reads it
    given = first_given(
        command_line=("--apirec-remote", config.getoption("apirec_remote", None)),
        ini=("ini apirec_remote", config.getini("apirec_remote") or None),
    )
    config.stash[_GIVEN] = None if given is None else _checked(given.value, None, given.source)


def settings_layer(config: pytest.Config, marker: dict[str, Any], where: str) -> dict[str, Any]:
    options = marker.get("remote_options")
    given = _checked(marker.get("remote"), options, f"{where}: remote")
    return {
        "remote": given if given is not None else config.stash.get(_GIVEN, None),
        "remote_options": options,
    }
