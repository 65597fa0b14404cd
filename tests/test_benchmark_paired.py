"""``benchmarks/paired.py``, shared by ``suite.py`` and ``startup.py``: a round's variant run
minus the same round's baseline run, the median of those differences with the sign test's
interval (order statistics chosen by exact binomial arithmetic), and the verdict against a
target. The runs are made up here: no speed is measured or asserted."""

from __future__ import annotations

import math
import random

import pytest

from .benchmark_helpers import load_benchmark


@pytest.fixture(scope="module")
def paired():
    return load_benchmark("paired.py")


def _binomial_cdf(n: int, k: int) -> float:
    """P(Binomial(n, 1/2) <= k), summed here term by term."""
    return sum(math.comb(n, i) * 0.5**n for i in range(k + 1))


# n: (k, coverage) with [d_(k), d_(n-k+1)]: k the largest with P(B <= k-1) <= 0.025
EXPECTED = {
    3: (1, 1 - 2 / 8),  # too few: the widest interval, 75%
    6: (1, 1 - 2 / 64),  # the fewest rounds for 95%: 96.9%
    7: (1, 1 - 2 / 128),  # P(B <= 1) = 8/128 > 0.025: still the widest, 98.4%
    15: (4, 1 - 2 * (1 + 15 + 105 + 455) / 2**15),  # 96.5%
    41: (14, 1 - 2 * _binomial_cdf(41, 13)),
}


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_the_interval_rank_is_the_largest_k_the_binomial_allows(paired, n):
    k, cover = EXPECTED[n]
    assert paired.order_rank(n) == k
    assert paired.coverage(n, k) == pytest.approx(cover, abs=1e-12)
    if n >= 6:  # k is allowed, and k + 1 is not: the largest such k
        assert _binomial_cdf(n, k - 1) <= 0.025 < _binomial_cdf(n, k)
    else:  # even k = 1 misses 95%: the widest interval, short of it
        assert _binomial_cdf(n, 0) > 0.025


def test_the_rank_matches_a_search_over_every_k_for_many_n(paired):
    for n in range(1, 80):
        allowed = [k for k in range(1, n + 1) if _binomial_cdf(n, k - 1) <= 0.025]
        assert paired.order_rank(n) == max(allowed, default=1), n


@pytest.mark.parametrize("n", sorted(EXPECTED))
def test_the_interval_ends_are_those_order_statistics_of_the_differences(paired, n):
    k, cover = EXPECTED[n]
    ranks = list(range(1, n + 1))
    random.Random(n).shuffle(ranks)  # the differences in round order, not sorted
    interval = paired.median_interval([rank * 0.5 for rank in ranks])
    # d_(k) and d_(n-k+1), 1-indexed, of the sorted differences
    assert (interval.low, interval.high) == (k * 0.5, (n - k + 1) * 0.5)
    assert interval.median == (n + 1) / 2 * 0.5
    assert interval.n == n and interval.rank == k
    assert interval.coverage == pytest.approx(cover, abs=1e-12)
    assert interval.short == (n < 6)


def test_fifteen_rounds_of_the_issue_give_a_narrow_interval_under_the_goal(paired):
    # the differences that half the range called "+0.523 +- 0.858 noise"
    rounds = [0.53, -0.1, 0.75, 0.2, 0.32, 1.41, 0.43, 0.21, 0.52, 0.66, 0.53, 0.54, 0.32,
              0.55, 0.57]  # fmt: skip
    interval = paired.median_interval(rounds)
    assert (interval.median, interval.low, interval.high) == (0.53, 0.32, 0.57)
    assert interval.cell(3) == "+0.320..+0.570"
    assert paired.verdict(interval, 0.6) == "met"
    assert "actual coverage 96.5%" in paired.explain(15)
    assert "4th smallest to the 4th largest of the 15" in paired.explain(15)


def test_too_few_rounds_say_so_with_the_widest_intervals_coverage(paired):
    line = paired.explain(3)
    assert "only 3 rounds, too few for 95% (6 or more needed)" in line
    assert "coverage only 75.0%" in line
    assert "too few" not in paired.explain(6) and "96.9%" in paired.explain(6)
    assert paired.rounds_needed() == 6
    interval = paired.median_interval([3.0, -1.0, 2.0])
    assert (interval.low, interval.high, interval.coverage) == (-1.0, 3.0, 0.75)


def test_a_round_is_paired_with_the_same_round_of_the_baseline(paired):
    variant, baseline = [10.0, 20.0, 30.0], [29.0, 9.0, 12.0]
    assert paired.paired_differences(variant, baseline) == [-19.0, 11.0, 18.0]
    interval = paired.paired_interval(variant, baseline)
    # the median of the rounds' differences: not the difference of the sides' medians
    # (20 - 12 = 8), nor of the sides sorted and paired by rank ([1, 8, 1]: 1)
    assert (interval.median, interval.low, interval.high) == (11.0, -19.0, 18.0)


def test_a_scale_converts_every_difference_before_the_interval(paired):
    interval = paired.paired_interval([1.3, 1.5, 1.0], [1.0, 1.0, 1.0], scale=1000 / 300)
    assert interval.median == pytest.approx(1.0) and interval.high == pytest.approx(5 / 3)
    with pytest.raises(ValueError, match="scale must be positive"):
        paired.paired_interval([1.0], [1.0], scale=-1)


def test_sides_of_unequal_runs_are_an_error_naming_both_counts(paired):
    with pytest.raises(ValueError, match="3 variant runs, 2 baseline runs"):
        paired.paired_differences([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one paired difference"):
        paired.median_interval([])


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (-3.0, 14.0, "met"),
        (10.0, 15.0, "met"),  # at the target is within it
        (15.5, 30.0, "NO"),
        (15.0, 30.0, "unsure"),  # a low end at the target is not above it
        (14.0, 16.0, "unsure"),
    ],
)
def test_the_verdict_judges_the_whole_interval_against_the_target(paired, low, high, expected):
    interval = paired.Interval(median=(low + high) / 2, low=low, high=high, n=15, rank=4,
                               coverage=0.965)  # fmt: skip
    assert paired.verdict(interval, 15.0) == expected


@pytest.mark.parametrize("n", [1, 2])
def test_under_three_rounds_there_is_no_verdict(paired, n):
    # one round's interval is a point (coverage 0%), two rounds' covers the median half the
    # time: startup.py --runs 1 printed "met" from a single pair of runs
    interval = paired.median_interval([1.0, 2.0][:n])
    assert paired.verdict(interval, 15.0) == "unsure"
    assert paired.verdict(paired.median_interval([1.0, 2.0, 3.0]), 15.0) == "met"


def test_unsure_adds_a_line_saying_more_runs_narrow_it(paired):
    assert "more runs narrow it" in paired.unsure_note(["met", "unsure"])
    assert paired.unsure_note(["met", "NO", ""]) is None
