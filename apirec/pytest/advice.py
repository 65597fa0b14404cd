"""The commands a miss under pytest prints to record the call: each must work when pasted
(issue 20).

* The plugin's own recording of a test (its fixture, its marker): :func:`record_command`, the
  test's node id with ``--apirec-mode``, or, when the marker sets the mode (which overrides
  the option), where to change it; and the store option the store needs.
* Any other recording a test opens (its own ``with apirec.recording(...)``, a conftest's):
  the command of the test running now (:func:`configure` tells the recorder's
  :mod:`apirec.record.record_advice`), not the whole run's command line, which would record
  every test again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from apirec.pytest import invocation, servers
from apirec.record.record_advice import command_with


def configure(config: pytest.Config) -> None:
    """Word the advice of recordings the plugin did not open with the running test's command
    (the test the servers' hooks know runs now), for as long as ``config`` is configured."""
    carried = config.pluginmanager.get_plugin("apirec-servers")

    def running_test(mode: str | None) -> str | None:
        item = getattr(carried, "item", None)
        if item is None:  # no test runs (a conftest's collection, a session's end): the run
            return invocation.whole_run(config, mode)
        return servers.record_command(item, mode)

    config.add_cleanup(command_with(running_test))


def record_command(item: pytest.Item, mode: str, *, marker_sets_mode: bool) -> str:
    """The command that records the misses of the plugin's recording of ``item``."""
    if marker_sets_mode:
        return (
            f"set mode='{mode}' in @pytest.mark.apirec on {item.nodeid} "
            f"(it overrides --apirec-mode), then: "
            + invocation.rerun(item.config, [servers.here(item)], None)
        )
    return servers.record_command(item, mode)


def store_option(item: pytest.Item, path: Path) -> str:
    """The store option a pasted record command needs: the directory's msgpack store, else
    the command line's choice (without it, a record run writes JSON beside the store)."""
    from apirec.stores.msgpack import FILE_NAME as MSGPACK_FILE  # a JSON run never needs it

    try:
        holds_msgpack = (path / MSGPACK_FILE).is_file()
    except OSError:
        holds_msgpack = False
    kind = "msgpack" if holds_msgpack else item.config.getoption("apirec_store")
    option = f"--apirec-store={kind}"
    typed = invocation.rerun_options(item.config)  # the command carries them already
    return f" {option}" if kind and option not in typed else ""
