"""The plugin named by its module: ``-p apirec.pytest.plugin``.

Configs written before the start-up (:mod:`apirec.pytest.startup`, the entry point) was split
off name the plugin's module, often with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``. pytest then
registers :mod:`apirec.pytest.plugin` itself, before any entry point. Its ``pytest_addoption``
(this one) loads the entry point ``apirec`` as ``-p apirec`` does, so the options, ini keys,
marker and fixture are there, and the entry point is not registered a second time (autoloaded,
or named too). When the start-up loads the plugin, it is registered already: nothing to do.
The start-up is found through its entry point, not imported: it imports the plugin.
"""

from __future__ import annotations

import sys

import pytest

ENTRY_POINT = "apirec"
START_UP = "apirec.pytest.startup"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    loaded = sys.modules.get(START_UP)
    if pluginmanager.get_plugin(ENTRY_POINT) is not None or pluginmanager.is_blocked(ENTRY_POINT):
        return  # there, or turned off with -p no:apirec
    if loaded is not None and pluginmanager.is_registered(loaded):
        return  # named as -p apirec.pytest.startup
    if not pluginmanager.load_setuptools_entrypoints("pytest11", name=ENTRY_POINT):
        raise pytest.UsageError(
            f"-p apirec.pytest.plugin: the pytest11 entry point {ENTRY_POINT!r} "
            f"({START_UP}) is not installed; install apirec (pip install -e . in a checkout)"
        )
