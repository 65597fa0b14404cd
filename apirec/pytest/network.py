"""The plugin's side of the network guard: options, and failing a test whose code swallowed a
:class:`~apirec.NetworkBlocked`.

``--apirec-block-network`` / ``--apirec-no-block-network`` and ``--apirec-allow-hosts=a,b``
(repeatable), the ini keys ``apirec_block_network`` and ``apirec_allow_hosts`` (comma- or
line-separated), the marker options ``block_network=`` and ``allow_hosts=``. Precedence as
everywhere: marker > command line > ini > environment (``APIREC_BLOCK_NETWORK``,
``APIREC_ALLOW_HOSTS``) > defaults (guard on in replay mode, loopback only). Command-line
values also go to the environment for the run, so recordings a conftest opens itself follow
them, as ``--apirec-mode`` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from apirec.errors import NetworkBlocked
from apirec.pytest.environment import restore
from apirec.record import network_guard
from apirec.record.hosts import HostRules
from apirec.record.settings import ENV_ALLOW_HOSTS, ENV_BLOCK_NETWORK, split_hosts

MARKER_OPTIONS = ("block_network", "allow_hosts")


@dataclass(frozen=True)
class NetworkOptions:
    """The command-line and ini layers of the guard's settings, read once per session."""

    block_network: bool | None
    allow_hosts: tuple[str, ...] | None


SAVED_ENV = pytest.StashKey[dict[str, str | None]]()
OPTIONS = pytest.StashKey[NetworkOptions]()


def add_options(group: Any, parser: pytest.Parser) -> None:
    group.addoption(
        "--apirec-block-network",
        action="store_true",
        dest="apirec_block_network",
        default=None,
        help="in replay mode, block connections to hosts other than loopback and "
        "--apirec-allow-hosts (the default)",
    )
    group.addoption(
        "--apirec-no-block-network",
        action="store_false",
        dest="apirec_block_network",
        help="let replay-mode recordings reach the network",
    )
    group.addoption(
        "--apirec-allow-hosts",
        action="append",
        metavar="HOSTS",
        help="comma-separated hosts, addresses or CIDR networks a replay may connect to "
        "besides loopback (repeatable)",
    )
    parser.addini(
        "apirec_block_network",
        "apirec: block the network in replay mode",
        type="bool",
        default=None,  # unset: the environment and the default decide
    )
    parser.addini(
        "apirec_allow_hosts",
        "apirec: hosts, addresses or CIDR networks a replay may reach",
        type="linelist",
    )


def configure(config: pytest.Config) -> None:
    cli_block = config.getoption("apirec_block_network")
    cli_hosts = config.getoption("apirec_allow_hosts")
    ini_block = config.getini("apirec_block_network")
    ini_hosts = config.getini("apirec_allow_hosts")
    hosts = _hosts(",".join(cli_hosts), "--apirec-allow-hosts") if cli_hosts else None
    if hosts is None and ini_hosts:
        hosts = _hosts(",".join(ini_hosts), "ini apirec_allow_hosts")
    config.stash[OPTIONS] = NetworkOptions(
        block_network=cli_block if cli_block is not None else ini_block,
        allow_hosts=hosts,
    )
    saved: dict[str, str | None] = {}
    if cli_block is not None:
        saved[ENV_BLOCK_NETWORK] = os.environ.get(ENV_BLOCK_NETWORK)
        os.environ[ENV_BLOCK_NETWORK] = "1" if cli_block else "0"
    if cli_hosts:
        saved[ENV_ALLOW_HOSTS] = os.environ.get(ENV_ALLOW_HOSTS)
        os.environ[ENV_ALLOW_HOSTS] = ",".join(hosts or ())
    config.stash[SAVED_ENV] = saved


def unconfigure(config: pytest.Config) -> None:
    restore(config.stash.get(SAVED_ENV, {}))


def _hosts(text: str, source: str) -> tuple[str, ...]:
    hosts = split_hosts(text)
    try:
        HostRules.parse(hosts)
    except (TypeError, ValueError) as e:
        raise pytest.UsageError(f"{source}: {e}") from None
    return hosts


def settings_layer(config: pytest.Config, marker: dict[str, Any], where: str) -> dict[str, Any]:
    """``block_network`` and ``allow_hosts`` for one test: marker > command line > ini;
    None leaves them to the environment and the defaults."""
    options = config.stash[OPTIONS]
    block = marker.get("block_network", options.block_network)
    if block is not None and not isinstance(block, bool):
        raise pytest.UsageError(f"{where}: block_network must be True or False, not {block!r}")
    hosts = marker.get("allow_hosts", options.allow_hosts)
    if hosts is not None:
        hosts = (hosts,) if isinstance(hosts, str) else tuple(hosts)
        try:
            HostRules.parse(hosts)
        except (TypeError, ValueError) as e:
            raise pytest.UsageError(f"{where}: {e}") from None
    return {"block_network": block, "allow_hosts": hosts}


@contextmanager
def watching() -> Iterator[list[NetworkBlocked]]:
    """Collect every connection blocked while a test's recording is open, by that recording
    or any other (a conftest's, nested inside it), for :func:`fail_if_swallowed`."""
    seen = network_guard.watch()
    try:
        yield seen
    finally:
        network_guard.unwatch(seen)


def fail_if_swallowed(
    seen: list[NetworkBlocked],
    raised: BaseException | None,
    in_chain: Callable[[BaseException, BaseException | None], bool],
) -> None:
    """Fail the test when a connection was blocked and the code under test hid it."""
    swallowed = [b for b in seen if not in_chain(b, raised)]
    if not swallowed:
        return
    __tracebackhide__ = True
    first = swallowed[0]
    more = f" (and {len(swallowed) - 1} more)" if len(swallowed) > 1 else ""
    raise NetworkBlocked(
        f"a blocked connection was caught by the code under test{more}; the test fails "
        f"anyway:\n{first}",
        host=first.host,
        port=first.port,
        recording=first.recording,
        action=first.action,
    )
