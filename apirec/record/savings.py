"""What replay saved: the live seconds and tokens of every replayed answer, from its ledger.

A replay only notes the stored entry it replayed (one list append on the hot path); the
recording adds them up as it closes (:func:`tally`), into its :class:`~apirec.record.calls.Stats`.
With prices (``settings.extra["prices"]``, set by the pytest plugin's ``--apirec-prices``, else
the table ``APIREC_PRICES`` names, which the plugin sets for the recordings it does not open)
the tokens are priced per model; apirec ships no prices of its own.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apirec.record.calls import Stats
from apirec.stores.ledger import LEDGER, read

# model -> dollars per million input tokens, per million output tokens
Prices = Mapping[str, tuple[float, float]]
# the run's price table, for recordings that were given none (apirec.pytest.environment)
ENV_PRICES = "APIREC_PRICES"


def prices_of(extra: Mapping[str, Any]) -> Prices | None:
    """The prices a recording with these settings' ``extra`` uses: its own, else the run's
    (``APIREC_PRICES``), else none."""
    own = extra.get("prices")
    if own is not None:
        return own  # type: ignore[no-any-return]
    path = os.environ.get(ENV_PRICES)
    return _run_prices(path) if path else None


@functools.lru_cache(maxsize=4)  # read once per table, not at every recording that closes
def _run_prices(path: str) -> Prices:
    try:
        return load_prices(path)
    except ValueError as e:
        raise ValueError(f"environment variable {ENV_PRICES}: {e}") from None


def load_prices(path: str | Path) -> dict[str, tuple[float, float]]:
    """A price table: TOML or JSON, one entry per model, in dollars per million tokens::

        [gpt-4o]                       # {"gpt-4o": {"input": 2.5, "output": 10.0}}
        input = 2.50
        output = 10.00

    apirec ships no prices (they change): the table is yours. A model priced ``gpt-4o`` also
    prices what the provider reports as ``gpt-4o-2024-08-06``."""
    import tomllib  # only a price table asks

    where = Path(path)
    try:
        text = where.read_text(encoding="utf-8")
        table = json.loads(text) if where.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as e:
        raise ValueError(f"prices {where}: cannot read it: {e}") from None
    if not isinstance(table, dict):
        raise ValueError(
            f"prices {where}: needs a table of models, each with 'input' and 'output' (dollars "
            f"per million tokens), got a {type(table).__name__}"
        )
    prices: dict[str, tuple[float, float]] = {}
    for model, price in table.items():
        if not isinstance(price, dict) or not all(_is_price(price.get(side)) for side in _SIDES):
            raise ValueError(
                f"prices {where}: {model!r} needs numbers 'input' and 'output' (dollars per "
                f"million tokens, finite and not negative), got {price!r}"
            )
        if set(price) - set(_SIDES):
            # TOML reads an unquoted [gpt-4.1] as a table "1" inside [gpt-4]: quote such names
            raise ValueError(
                f"prices {where}: {model!r} holds {sorted(set(price) - set(_SIDES))!r} besides "
                f"'input' and 'output'; a model name with a dot is quoted in TOML "
                f'(["gpt-4.1"])'
            )
        prices[model] = (float(price["input"]), float(price["output"]))
    return prices


_SIDES = ("input", "output")


def _is_price(value: object) -> bool:
    """Dollars: a finite number, not negative (NaN passes every budget, a negative earns)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


# what a dated snapshot of a listed model adds to its name: a date or a version number
# (``-2024-08-06``, ``-20241022``, ``-0613``, ``-001``, ``-v2``, ``-latest``; ``@`` on Vertex)
_SNAPSHOT = re.compile(r"[-@](?:\d{4}-\d{2}-\d{2}|\d+|v\d+(?:\.\d+)*|latest)")


def cost_of(input_tokens: int, output_tokens: int, price: tuple[float, float]) -> float:
    """Dollars for these tokens at ``price`` (dollars per million input, output tokens)."""
    return (input_tokens * price[0] + output_tokens * price[1]) / 1e6


def price_of(prices: Prices, model: str | None) -> tuple[float, float] | None:
    """The price of ``model``: its own, else that of the listed model it is a snapshot of
    (``gpt-4o`` for ``gpt-4o-2024-08-06``), never that of another model whose name it extends
    (``gpt-4o-mini`` is not ``gpt-4o``: unpriced unless listed)."""
    if not model:
        return None
    found = prices.get(model)
    if found is None:
        names = [
            name
            for name in prices
            if model.startswith(name) and _SNAPSHOT.fullmatch(model[len(name) :])
        ]
        found = prices[max(names, key=len)] if names else None
    return found


@dataclass
class Totals:
    seconds: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    unknown: int = 0  # answers with no ledger (recorded before it)
    # answers with a ledger that names a model but reports no usage (an openai stream without
    # stream_options={"include_usage": True}): their tokens are unknown, not zero
    no_usage: int = 0
    unpriced: int = 0  # answers with tokens of a model the prices do not list
    priced: int = 0  # answers with tokens of a model the prices list

    @property
    def unknown_usage(self) -> int:
        """Answers whose tokens are unknown: recorded before the ledger, or reporting none."""
        return self.unknown + self.no_usage

    @property
    def cost_known(self) -> bool:
        """Whether :attr:`cost` says anything: not when no answer is priced and some are
        unpriced or of unknown usage (their cost is unknown, never free)."""
        return bool(self.priced) or not (self.unpriced or self.unknown_usage)

    @property
    def cost_complete(self) -> bool:
        """Whether :attr:`cost` is the whole cost, not only that of the priced answers."""
        return not (self.unpriced or self.unknown_usage)


def add_up(entries: Iterable[Mapping[str, Any]], prices: Prices | None) -> Totals:
    """What the ledgers of ``entries`` (stored entries) add up to."""
    totals = Totals()
    for entry in entries:
        seconds, usage, model = read(entry)
        if seconds is None:
            totals.unknown += 1
            continue
        totals.seconds += seconds
        if not usage and model:  # an LLM's answer that reported no usage: unknown, not free
            totals.no_usage += 1
            continue
        tokens_in = usage.get("input_tokens", 0)
        tokens_out = usage.get("output_tokens", 0)
        totals.input_tokens += tokens_in
        totals.output_tokens += tokens_out
        if prices and (tokens_in or tokens_out):
            price = price_of(prices, model)
            if price is None:
                totals.unpriced += 1
            else:
                totals.priced += 1
                totals.cost += cost_of(tokens_in, tokens_out, price)
    return totals


def tally(stats: Stats, entries: Iterable[Mapping[str, Any]], prices: Prices | None) -> None:
    """Add what the replayed ``entries`` saved to ``stats``."""
    totals = add_up(entries, prices)
    stats.saved_seconds += totals.seconds
    stats.saved_input_tokens += totals.input_tokens
    stats.saved_output_tokens += totals.output_tokens
    stats.saved_unknown += totals.unknown
    stats.saved_no_usage += totals.no_usage
    stats.saved_cost += totals.cost
    stats.saved_unpriced += totals.unpriced


def tally_spent(stats: Stats, ledgers: Iterable[dict[str, Any]], prices: Prices | None) -> None:
    """Add what the recorded answers' ``ledgers`` spent to ``stats``."""
    totals = add_up(({LEDGER: ledger} for ledger in ledgers), prices)
    stats.spent_seconds += totals.seconds
    stats.spent_tokens += totals.input_tokens + totals.output_tokens
    stats.spent_cost += totals.cost
    stats.spent_no_usage += totals.no_usage
