"""Instructions a whole command executes, counted by valgrind: a clock no neighbour can skew.

A busy machine spreads whole-process timings by tens of milliseconds, more than a start-up
target of +15 ms; the count of instructions a process executes (user space, valgrind's
``callgrind`` tool) barely moves from run to run. :func:`count` gives a command's median count
over a few runs; :func:`row` puts two commands side by side and turns the difference into
milliseconds at the baseline's own pace (its median CPU time over its instructions), which is
an estimate: it assumes the extra instructions run as fast as the baseline's do.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

_COLLECTED = re.compile(r"Collected : (\d+)")


def available() -> bool:
    return shutil.which("valgrind") is not None


def count(argv: list[str], cwd: Path, env: dict[str, str], runs: int) -> int:
    """The median instruction count of ``runs`` runs of ``argv`` (after one that warms the
    bytecode cache)."""
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    counts = []
    for _ in range(runs):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        found = _COLLECTED.search(done.stderr)
        if found is None:
            raise RuntimeError(f"valgrind printed no count for {argv}:\n{done.stderr[-2000:]}")
        counts.append(int(found[1]))
    return int(statistics.median(counts))


@dataclass(frozen=True)
class Counted:
    """Two commands' instruction counts, and the baseline's median CPU time in ms."""

    ours: int
    baseline: int
    baseline_cpu_ms: float

    @property
    def extra(self) -> int:
        return self.ours - self.baseline

    @property
    def extra_ms(self) -> float:
        """The extra instructions at the baseline's pace."""
        return self.extra / self.baseline * self.baseline_cpu_ms

    def cells(self, target_ms: float) -> str:
        verdict = "met" if self.extra_ms <= target_ms else "NO"
        return (
            f"{self.ours / 1e6:>10.1f}M{self.baseline / 1e6:>10.1f}M{self.extra / 1e6:>+9.1f}M"
            f"{self.extra / self.baseline:>+8.1%}{self.extra_ms:>+9.1f}{f'+{target_ms:.0f}':>8}"
            f"{verdict:>9}"
        )


HEADER = (
    f"{'ours':>11}{'baseline':>11}{'extra':>10}{'share':>8}{'est. ms':>9}{'target':>8}"
    f"{'verdict':>9}"
)
