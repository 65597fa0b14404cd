"""A budget for recording: once the live calls of a run have spent it, the next live call is
refused with :class:`~apirec.errors.BudgetExceeded` before it is made.

The budget is tokens (``"200k"``, ``"1.5M"``, ``"50000"``: input and output together) or
dollars (``"$2.50"``, priced with a price table). What was spent is read from the ledger of
every answer the run recorded (:mod:`apirec.stores.ledger`), appended as one line per answer
to a file the run's processes share (pytest-xdist's workers: one budget for the run). A live
call whose answer reports no usage spends nothing but its time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from apirec.errors import BudgetExceeded
from apirec.record.savings import Prices, cost_of, price_of
from apirec.stores.ledger import tokens_text

_TOKENS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
_DOLLARS = re.compile(r"^\s*\$\s*(\d+(?:\.\d+)?)\s*$")
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}


@dataclass(frozen=True)
class Budget:
    text: str  # as given
    tokens: int | None  # a budget of tokens, or
    dollars: float | None  # of dollars (needs prices)
    prices: Prices | None
    ledger: Path  # one line per recorded answer: "<tokens> <dollars>"

    @classmethod
    def parse(cls, text: str, prices: Prices | None, ledger: Path) -> Budget:
        """``ValueError`` naming what is wrong with ``text``."""
        dollars = _DOLLARS.match(text)
        if dollars:
            if not prices:
                raise ValueError(
                    f"record budget {text!r} is in dollars: give the prices too "
                    f"(--apirec-prices=FILE), or a budget in tokens such as '200k'"
                )
            return cls(text, None, float(dollars.group(1)), prices, ledger)
        tokens = _TOKENS.match(text)
        if not tokens:
            raise ValueError(
                f"record budget {text!r}: give tokens ('200k', '1.5M', '50000') or dollars "
                f"('$2.50')"
            )
        amount = float(tokens.group(1)) * _SCALE[tokens.group(2).lower()]
        return cls(text, int(amount), None, prices, ledger)

    def spent(self) -> tuple[int, float]:
        """Tokens and dollars the run's recorded answers spent, all processes together."""
        tokens, dollars, _ = self._read()
        return tokens, dollars

    def _read(self) -> tuple[int, float, list[str]]:
        """Tokens, dollars, and the models a dollar budget found no price for."""
        try:
            lines = self.ledger.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            return 0, 0.0, []
        tokens, dollars, unpriced = 0, 0.0, []
        for line in lines:
            parts = line.split()
            if len(parts) in (2, 3):  # a line being written by another process is not whole
                tokens += int(parts[0])
                dollars += float(parts[1])
            if len(parts) == 3 and unquote(parts[2]) not in unpriced:
                unpriced.append(unquote(parts[2]))
        return tokens, dollars, unpriced

    def spent_text(self) -> str:
        tokens, dollars = self.spent()
        return f"${dollars:,.2f}" if self.dollars is not None else f"{tokens_text(tokens)} tokens"

    def check(self, function: str) -> None:
        """Refuse a live call of ``function`` once the budget is spent, or, for a budget in
        dollars, once an answer of a model the prices do not list was recorded."""
        tokens, dollars, unpriced = self._read()
        if self.dollars is not None and unpriced:
            names = ", ".join(repr(m) for m in unpriced)
            raise BudgetExceeded(
                f"{function}() was not called: the record budget of {self.text} is in dollars "
                f"and this run recorded answers of a model the prices do not list ({names}): "
                f"their cost is not known, so the budget cannot be kept. Add the model to the "
                f"price table (--apirec-prices), or give a budget in tokens such as '200k'.",
                budget=self.text,
                spent=f"{self.spent_text()} and tokens of unpriced {names}",
            )
        if (self.tokens is not None and tokens >= self.tokens) or (
            self.dollars is not None and dollars >= self.dollars
        ):
            spent = self.spent_text()
            raise BudgetExceeded(
                f"{function}() was not called: the live calls of this run have spent {spent} "
                f"of the record budget of {self.text} (--apirec-record-budget). Raise the "
                f"budget, or record fewer tests at a time.",
                budget=self.text,
                spent=spent,
            )

    def spend(self, ledger: dict[str, Any]) -> None:
        usage = ledger.get("usage") or {}
        tokens = int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
        dollars = 0.0
        model = ledger.get("model")
        price = price_of(self.prices, model) if self.prices else None
        line = f"{tokens} {dollars!r}"
        if price is not None:
            dollars = cost_of(usage.get("input_tokens", 0), usage.get("output_tokens", 0), price)
            line = f"{tokens} {dollars!r}"
        elif self.dollars is not None and tokens:  # tokens a dollar budget cannot price
            line += f" {quote(str(model or 'no model named'), safe='')}"
        # one short write with O_APPEND: processes sharing the file never interleave a line
        fd = os.open(self.ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{line}\n".encode("ascii"))
        finally:
            os.close(fd)


# The run's budget (the pytest plugin's), for every recording opened while it runs: a test's own
# ``with apirec.recording(...)`` too, not only the plugin's recordings that carry it in their
# settings.
_RUN: list[Budget] = []


def set_run_budget(budget: Budget) -> Callable[[], None]:
    """Make ``budget`` the run's; returns the undo."""
    _RUN.append(budget)
    return lambda: _RUN.remove(budget)


def budget_of(extra: Mapping[str, Any]) -> Budget | None:
    """The budget a recording with these settings' ``extra`` keeps: its own, else the run's."""
    found = extra.get("budget")
    if isinstance(found, Budget):
        return found
    return _RUN[-1] if _RUN else None
