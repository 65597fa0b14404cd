"""``--apirec-record-budget`` (ini ``apirec_record_budget``, ``APIREC_RECORD_BUDGET``): what the
live calls of a run may spend (:mod:`apirec.record.budget`). One budget per run: the spend
file is made by the process that configures first (the controller under pytest-xdist) and
handed to the workers."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from apirec.pytest import prices
from apirec.record.budget import Budget, set_run_budget
from apirec.record.layers import first_given

_BUDGET = pytest.StashKey[dict[str, Any]]()
_WORKER_KEY = "apirec_budget_spent"


class _HandToWorkers:
    """Registered only when pytest-xdist is: gives each worker the run's spend file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[_WORKER_KEY] = str(self.path)


def configure(config: pytest.Config) -> None:
    found = first_given(
        command_line=("--apirec-record-budget", config.getoption("apirec_record_budget") or None),
        ini=("ini apirec_record_budget", config.getini("apirec_record_budget") or None),
        environment="APIREC_RECORD_BUDGET",
    )
    if found is None:
        config.stash[_BUDGET] = {}
        return
    source, text = found.source, found.value  # where it came from, for the error a bad value gets
    given = getattr(config, "workerinput", {}).get(_WORKER_KEY)
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
    # every recording opened while the plugin runs keeps it, a test's own ones too
    config.add_cleanup(set_run_budget(budget))


def settings_extra(config: pytest.Config) -> dict[str, Any]:
    return config.stash.get(_BUDGET, {})


def budget_of(config: pytest.Config) -> Budget | None:
    found = settings_extra(config).get("budget")
    return found if isinstance(found, Budget) else None
