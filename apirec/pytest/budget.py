"""``--apirec-record-budget`` (ini ``apirec_record_budget``, ``APIREC_RECORD_BUDGET``): what the
live calls of a run may spend (:mod:`apirec.record.budget`). One budget per run: the spend
file is made by the process that configures first (the controller under pytest-xdist) and
handed to the workers; every other process of the run (a program a test starts under
``apirec run``, a pytest session run inside a test) gets it through the environment
(``APIREC_RECORD_BUDGET_SPENT``, set by :mod:`apirec.pytest.environment`) and counts into it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from apirec.pytest import prices
from apirec.record.budget import ENV_BUDGET, ENV_SPENT, Budget

_BUDGET = pytest.StashKey[dict[str, Any]]()
_WORKER_KEY = "apirec_budget_spent"


class _HandToWorkers:
    """Registered only when pytest-xdist is: gives each worker the run's spend file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[_WORKER_KEY] = str(self.path)


def configure(config: pytest.Config) -> None:
    # where it came from, for the error a bad value gets
    source, text = "--apirec-record-budget", config.getoption("apirec_record_budget", None)
    if not text:
        source, text = "apirec_record_budget (ini)", config.getini("apirec_record_budget")
    if not text:
        source, text = ENV_BUDGET, os.environ.get(ENV_BUDGET)
    if not text:
        config.stash[_BUDGET] = {}
        return
    given = getattr(config, "workerinput", {}).get(_WORKER_KEY)
    if not given and source == ENV_BUDGET:  # the budget of the run that started this one
        given = os.environ.get(ENV_SPENT)
    if given:
        spent = Path(given)
    else:
        where = Path(tempfile.mkdtemp(prefix="apirec-budget-"))
        config.add_cleanup(lambda: shutil.rmtree(where, ignore_errors=True))
        spent = where / "spent"
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(_HandToWorkers(spent), "apirec-budget-workers")
    table = prices.settings_extra(config).get("prices")
    if table == {} and str(text).strip().startswith("$"):  # given, and it lists no model
        raise pytest.UsageError(
            f"{source}: the record budget {text!r} is in dollars and the price table "
            f"{prices.table_path(config)} (--apirec-prices) lists no model: add the models' "
            f"prices, or give a budget in tokens such as '200k'"
        )
    try:
        budget = Budget.parse(str(text), table, spent)
    except ValueError as e:
        raise pytest.UsageError(f"{source}: {e}") from None
    config.stash[_BUDGET] = {"budget": budget}


def variables(config: pytest.Config) -> dict[str, str]:
    """The run's budget for every recording the plugin's fixture does not open, in this
    process and in those it starts: its text and the file its spend is counted in."""
    budget = budget_of(config)
    return {} if budget is None else {ENV_BUDGET: budget.text, ENV_SPENT: str(budget.ledger)}


def settings_extra(config: pytest.Config) -> dict[str, Any]:
    return config.stash.get(_BUDGET, {})


def budget_of(config: pytest.Config) -> Budget | None:
    found = settings_extra(config).get("budget")
    return found if isinstance(found, Budget) else None
