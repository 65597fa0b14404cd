"""How a run is configured, as the start-up sees it: whether the full plugin loads at once.

A project configured the way the README teaches (ini ``apirec_mode``, ``apirec_integrations``,
``apirec_dir``, ``apirec_store``; ``APIREC_MODE``, ``APIREC_DIR``, ``APIREC_STORE`` in CI) says
how recordings are made, not that this run makes any: such a run loads the plugin on first use,
as an unconfigured one does (:mod:`apirec.pytest.startup`). What it must not wait for is done
here, cheaply (no recorder, codec, key rules or pydantic): its usage errors (a bad mode, store
kind or SDK name: the plugin's messages) and, in a replaying run, the SDKs' placeholder keys
(:mod:`apirec.pytest.run_keys`). Any other setting (every ``--apirec-*`` option, the other ini
keys and ``APIREC_*`` variables) loads the plugin as the run configures.
"""

from __future__ import annotations

import os

import pytest

from apirec.errors import InvalidMode
from apirec.record.modes import Mode, parse_mode, resolve_mode

# the settings that leave the plugin to load on first use (others load it at configure)
LAZY_INI = ("apirec_mode", "apirec_integrations", "apirec_dir", "apirec_store")
LAZY_ENVIRONMENT = ("APIREC_MODE", "APIREC_DIR", "APIREC_STORE")
INI = (
    *LAZY_INI,
    "apirec_block_network",
    "apirec_max_age",
    "apirec_expired",
    "apirec_repeats",
    "apirec_replay_timing",
    "apirec_remote",
    "apirec_record_budget",
    "apirec_prune",
    "apirec_strict",
    "apirec_scrub",
    "apirec_allow_hosts",
    "apirec_prices",
)
# the store kinds (apirec.record.settings.STORE_KINDS: tests/test_startup_imports.py checks)
STORE_KINDS = ("json", "msgpack")


def loads_plugin_now(config: pytest.Config) -> bool:
    """Whether a setting of apirec's other than :data:`LAZY_INI` and
    :data:`LAZY_ENVIRONMENT` is given for this run."""
    for name, value in vars(config.option).items():
        if name.startswith("apirec_") and value not in (None, False, []):
            return True
    if any(config.getini(name) for name in INI if name not in LAZY_INI):
        return True
    return any(n.startswith("APIREC_") and n not in LAZY_ENVIRONMENT for n in os.environ)


def replays(config: pytest.Config) -> bool:
    """Whether the run's mode is replay (a marker may still change a test's)."""
    cli, ini = config.getoption("apirec_mode"), config.getini("apirec_mode")
    try:
        if cli:
            return parse_mode(str(cli), source="--apirec-mode") is Mode.REPLAY
        if ini:
            return parse_mode(str(ini), source="ini apirec_mode") is Mode.REPLAY
    except InvalidMode as e:
        raise pytest.UsageError(str(e)) from None
    return resolve_mode(None) is Mode.REPLAY  # APIREC_MODE: checked by check_environment


def start_lazily(config: pytest.Config) -> None:
    """What the plugin's configure does for the lazy settings that cannot wait for it: the
    ini's SDK names and store kind checked, in the plugin's order (the mode is, earlier, by
    :func:`replays`), then, last, the placeholder keys of a replaying run."""
    lines = config.getini("apirec_integrations")
    names: list[str] = []
    if lines:  # the plugin checks the SDK names before the store kind: the same first error
        names = _checked_names(lines)
    store = config.getini("apirec_store") or None
    if store is not None and store not in STORE_KINDS:  # the plugin's words (plugin._store)
        raise pytest.UsageError(
            f"ini apirec_store: {store!r} is not a valid store. Valid stores are: "
            f"{', '.join(STORE_KINDS)}"
        )
    if names and replays(config):
        from apirec.pytest import run_keys

        run_keys.hold(config, tuple(names))
        # released once: here, or by the plugin's unconfigure if it loads (whichever is first)
        config.add_cleanup(lambda: run_keys.release(config))


def _checked_names(lines: list[str]) -> list[str]:
    from apirec.integrations.known import UnknownIntegration, module_for

    names: list[str] = []
    for line in lines:
        # apirec.record.settings.split_hosts's spelling: commas or lines
        for name in (part.strip() for part in line.replace("\n", ",").split(",")):
            if not name or name in names:
                continue
            try:
                module_for(name)
            except UnknownIntegration as e:  # the words of apirec.pytest.integrations
                raise pytest.UsageError(f"ini apirec_integrations: {e}") from None
            names.append(name)
    return names
