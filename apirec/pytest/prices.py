"""``--apirec-prices=FILE`` (ini ``apirec_prices``, ``APIREC_PRICES``): the price table the
summary prices the replayed tokens with (:func:`apirec.record.savings.load_prices`). Read once
per run; the recordings the plugin's fixture does not open get it through ``APIREC_PRICES``
(:mod:`apirec.pytest.environment`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from apirec.record.savings import ENV_PRICES, load_prices

_PRICES = pytest.StashKey[dict[str, Any]]()


def table_path(config: pytest.Config) -> Path | None:
    """The price table's file, as given (the option, else the ini key), or None."""
    return _given(config)[0]


def _given(config: pytest.Config) -> tuple[Path | None, str]:
    """The price table's file, and the layer that gave it, named for messages."""
    given = config.getoption("apirec_prices", None)
    where, source = config.invocation_params.dir, "--apirec-prices"  # from where you run
    if not given:
        given = config.getini("apirec_prices") or None
        where = config.inipath.parent if config.inipath else config.rootpath
        source = "ini apirec_prices"
    if not given:
        given, where = os.environ.get(ENV_PRICES) or None, Path.cwd()
        source = f"environment variable {ENV_PRICES}"
    return (where / given if given else None), source


def settings_extra(config: pytest.Config) -> dict[str, Any]:
    """``{"prices": table}`` for every recording the plugin opens, or nothing."""
    if _PRICES not in config.stash:
        path, source = _given(config)
        extra: dict[str, Any] = {}
        if path is not None:
            try:
                extra["prices"] = load_prices(path)
            except ValueError as e:
                raise pytest.UsageError(f"{source}: {e}") from None
        config.stash[_PRICES] = extra
    return config.stash[_PRICES]


def variables(config: pytest.Config) -> dict[str, str]:
    """The run's price table, by its absolute path, for the recordings the fixture does not
    open (a dollar budget needs it in every process)."""
    path = table_path(config)
    return {} if path is None or not settings_extra(config) else {ENV_PRICES: str(path.resolve())}
