"""The plugin named by its module: ``-p apirec.pytest.plugin``.

Configs written before the start-up (:mod:`apirec.pytest.startup`, the entry point) was split
off name the plugin's module, often with ``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``. pytest then
registers :mod:`apirec.pytest.plugin` itself, before any entry point. Its ``pytest_addoption``
(this one) registers the start-up as the entry point would, under its name ``apirec``, so the
options, ini keys, marker and fixture are there, and the entry point (autoloaded, or named
with ``-p apirec``) is not registered a second time. When the start-up loads the plugin, the
start-up is registered already: nothing to do.
"""

from __future__ import annotations

import pytest

from apirec.pytest import startup


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if not pluginmanager.is_registered(startup) and pluginmanager.get_plugin("apirec") is None:
        pluginmanager.register(startup, "apirec")
