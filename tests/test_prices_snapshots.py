"""Review of issue 21 (adversarial): prices by model name."""

from __future__ import annotations

import pytest

from apirec.record.savings import add_up


@pytest.mark.parametrize(
    ("listed", "reported"),
    [("gpt-4o", "gpt-4o-mini"), ("o1", "o1-mini"), ("gpt-4.1", "gpt-4.1-nano")],
)
def test_a_model_the_table_does_not_list_is_unpriced(listed, reported):
    """docs/pytest.md: 'Answers of a model the table does not list are counted as unpriced'
    (and docs/cli.md's example shows gpt-4o-mini at $0.00 beside a gpt-4o price). The prefix
    rule meant for dated snapshots (gpt-4o -> gpt-4o-2024-08-06) prices gpt-4o-mini at
    gpt-4o's price: 16x its real price, silently, in the summary, stats and dollar budgets."""
    entry = {
        "ledger": {
            "seconds": 1.0,
            "model": reported,
            "usage": {"input_tokens": 1_000_000, "output_tokens": 0},
        }
    }
    totals = add_up([entry], {listed: (2.5, 10.0)})
    assert (totals.cost, totals.unpriced) == (0.0, 1)
