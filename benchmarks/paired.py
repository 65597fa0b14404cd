"""Paired differences of runs taken in rounds, a distribution-free interval for their median,
and a verdict against a target; shared by ``suite.py`` and ``startup.py``.

Those scripts run every side once per round, in turn, so a busy neighbour slows a round's
sides alike. Each round's variant run minus the same round's baseline run is one paired
difference; the median of the differences is the figure, and its interval comes from order
statistics (the sign test's interval): with ``n`` differences sorted, ``d_(1) <= ... <= d_(n)``,
and ``k`` the largest rank with ``P(Binomial(n, 1/2) <= k - 1) <= alpha / 2``, the median lies
in ``[d_(k), d_(n - k + 1)]`` with a coverage of at least ``1 - alpha`` whatever the
distribution of the differences. The coverage is exact, not nominal: it is printed as such
(96.5% at 15 rounds for 95% asked). Below 6 rounds no interval reaches 95%: the widest one,
``[d_(1), d_(n)]``, is given with its coverage (75% at 3 rounds) and says so.

Half the range of each side's runs, which these scripts printed as ``+-`` before, grows with
the number of runs (more runs, more extreme outliers); this interval narrows with it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

CONFIDENCE = 0.95


def paired_differences(variant: Sequence[float], baseline: Sequence[float]) -> list[float]:
    """Round ``i``'s variant run minus round ``i``'s baseline run, for every round."""
    if len(variant) != len(baseline):
        raise ValueError(
            f"paired differences need one baseline run per variant run: "
            f"{len(variant)} variant runs, {len(baseline)} baseline runs"
        )
    return [ours - theirs for ours, theirs in zip(variant, baseline, strict=True)]


def _tail(n: int, k: int) -> Fraction:
    """``P(Binomial(n, 1/2) <= k)``, exactly."""
    return Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)


def order_rank(n: int, confidence: float = CONFIDENCE) -> int:
    """The 1-indexed rank ``k`` of the interval's low end, ``d_(k)`` (its high end is
    ``d_(n - k + 1)``): the largest ``k`` with ``P(Binomial(n, 1/2) <= k - 1) <= alpha / 2``,
    or 1 (the widest interval) when even ``k = 1`` misses the confidence asked."""
    if n < 1:
        raise ValueError(f"an interval needs at least one paired difference, got {n}")
    half_alpha = (1 - Fraction(confidence).limit_denominator(10_000)) / 2
    k = 1
    while k + 1 <= (n + 1) // 2 and _tail(n, k) <= half_alpha:
        k += 1
    return k


MIN_ROUNDS_JUDGED = 3  # fewer: the widest interval covers the median at most half the time


def coverage(n: int, k: int) -> float:
    """The exact coverage of ``[d_(k), d_(n - k + 1)]``: ``1 - 2 P(Binomial(n, 1/2) <= k - 1)``."""
    return float(1 - 2 * _tail(n, k - 1))


def rounds_needed(confidence: float = CONFIDENCE) -> int:
    """The fewest rounds whose widest interval reaches ``confidence`` (6 for 95%)."""
    n = 1
    while coverage(n, 1) < confidence:
        n += 1
    return n


@dataclass(frozen=True)
class Interval:
    """The median of ``n`` paired differences and the interval ``[low, high]`` that holds the
    true median with probability ``coverage`` (exact; at least ``confidence`` unless ``short``)."""

    median: float
    low: float
    high: float
    n: int
    rank: int
    coverage: float
    confidence: float = CONFIDENCE

    @property
    def short(self) -> bool:
        """Too few rounds for the confidence asked: this is the widest interval, [min, max]."""
        return self.coverage < self.confidence

    def cell(self, digits: int) -> str:
        """``low..high``, signed, in the differences' own units."""
        return f"{self.low:+.{digits}f}..{self.high:+.{digits}f}"


def median_interval(differences: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """The median of the paired differences and its order-statistic interval."""
    ordered = sorted(differences)
    n = len(ordered)
    k = order_rank(n, confidence)
    return Interval(
        median=statistics.median(ordered),
        low=ordered[k - 1],
        high=ordered[n - k],
        n=n,
        rank=k,
        coverage=coverage(n, k),
        confidence=confidence,
    )


def paired_interval(
    variant: Sequence[float],
    baseline: Sequence[float],
    scale: float = 1.0,
    confidence: float = CONFIDENCE,
) -> Interval:
    """:func:`median_interval` of the rounds' paired differences, each times ``scale`` (a
    positive unit change, e.g. seconds of a whole run to ms per test)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive (it keeps the differences' order), got {scale}")
    pairs = paired_differences(variant, baseline)
    return median_interval([difference * scale for difference in pairs], confidence)


def verdict(interval: Interval, target: float) -> str:
    """``met`` when the whole interval is at or below the target, ``NO`` when the whole of it
    is above, else ``unsure``: the interval straddles the target, and more runs narrow it.
    Under 3 rounds the interval holds the median with at most 50% (one round: a point, 0%):
    no verdict but ``unsure``."""
    if interval.n < MIN_ROUNDS_JUDGED:
        return "unsure"
    if interval.high <= target:
        return "met"
    if interval.low > target:
        return "NO"
    return "unsure"


def explain(n: int, confidence: float = CONFIDENCE) -> str:
    """One line for a table's legend: what the interval is at ``n`` rounds and how sure."""
    k = order_rank(n, confidence)
    cover = coverage(n, k)
    asked = f"{confidence:.0%}"
    rounds = f"{n} round{'s' if n != 1 else ''}"
    if cover < confidence:
        return (
            f"interval: only {rounds}, too few for {asked} ({rounds_needed(confidence)} or more"
            f" needed): the smallest to the largest paired difference, coverage only {cover:.1%}"
        )
    ends = (
        "smallest to the largest"
        if k == 1
        else f"{_ordinal(k)} smallest to the {_ordinal(k)} largest"
    )
    return (
        f"interval: {asked}, the {ends} of the {n} paired differences (sign test),"
        f" actual coverage {cover:.1%}"
    )


def _ordinal(k: int) -> str:
    suffix = "th" if k % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


LEGEND_VERDICT = (
    "met: the whole interval at or below the target; NO: all of it above; unsure: it "
    "straddles the target (more runs narrow it)"
)


def unsure_note(verdicts: Sequence[str]) -> str | None:
    """A line after a table with an ``unsure`` verdict: what to do about it."""
    if "unsure" not in verdicts:
        return None
    return "unsure: the interval straddles the target; more runs narrow it (--runs N)"


def runs_error(runs: int) -> str | None:
    """What is wrong with ``--runs N`` (for ``parser.error``), or None."""
    if runs < 1:
        return f"--runs must be 1 or more (6 or more for a 95% interval), got {runs}"
    return None
