"""``--apirec-prices=FILE`` (ini ``apirec_prices``): the price table the summary prices the
replayed tokens with (:func:`apirec.record.savings.load_prices`). Read once per run."""

from __future__ import annotations

from typing import Any

import pytest

from apirec.record.savings import load_prices

_PRICES = pytest.StashKey[dict[str, Any]]()


def settings_extra(config: pytest.Config) -> dict[str, Any]:
    """``{"prices": table}`` for every recording the plugin opens, or nothing."""
    if _PRICES not in config.stash:
        given = config.getoption("apirec_prices", None)
        where = config.invocation_params.dir  # a path on the command line: from where you run
        if not given:
            given = config.getini("apirec_prices") or None
            where = config.inipath.parent if config.inipath else config.rootpath
        extra: dict[str, Any] = {}
        if given:
            try:
                extra["prices"] = load_prices(where / given)
            except ValueError as e:
                raise pytest.UsageError(f"--apirec-prices: {e}") from None
        config.stash[_PRICES] = extra
    return config.stash[_PRICES]
