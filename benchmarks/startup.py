"""What the pytest plugin costs a run that uses no recording, and what ``import apirec`` costs.

    python benchmarks/startup.py            # 15 runs of each side
    python benchmarks/startup.py --runs 31

Whole processes, as a user starts them: ``python -m pytest -q`` on a one-test project in a
temporary directory with the plugin (entry point ``apirec``) against the same run with
``-p no:apirec``; then ``python -c "import apirec"`` against ``python -c "import pydantic,
msgpack, xxhash, wrapt"`` (apirec's dependencies alone). The two sides of a row take turns, run
by run, so a busy neighbour slows both alike; each figure is a median, of the wall time and of
the children's CPU time (user + system), beside the runs' spread and a verdict per clock (met,
NO, or noise when the spread straddles the target). Compiled
modules are cached as on a user's machine (PYTHONDONTWRITEBYTECODE is unset in the children,
and a first run of each side warms the cache). Targets (issue 19): the plugin at most +15 ms,
``import apirec`` at most +40 ms.

A second table: the ``apirec`` console script, ``apirec --help`` and ``apirec ls DIR`` on a
directory of 20 JSON recordings, against ``python -c "import apirec"`` (what the command cannot
avoid) and ``python -c pass`` (the interpreter alone), all four taking turns run by run; beside
the wall times, the children's CPU time (user + system), which a busy machine inflates less. Target
(issue 19): each starts as fast as ``import apirec`` allows.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PLUGIN_TARGET_MS = 15.0
IMPORT_TARGET_MS = 40.0


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_PLUGINS", None)
    for name in [n for n in env if n.startswith("APIREC_")]:
        del env[name]  # an APIREC_* variable is a use of apirec: the plugin loads in full
    return env


def _time(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return (time.perf_counter() - start) * 1000


@dataclass(frozen=True)
class Side:
    """One command's runs: wall-clock and CPU times (the child's user + system, which a busy
    neighbour inflates less), in ms."""

    walls: list[float]
    cpus: list[float]

    def median(self, clock: str) -> float:
        return statistics.median(self.walls if clock == "wall" else self.cpus)

    def spread(self, clock: str) -> float:
        """Half the range of the runs: how far a median may be off on this machine."""
        seen = self.walls if clock == "wall" else self.cpus
        return (max(seen) - min(seen)) / 2


def _sides(commands: list[list[str]], cwd: Path, runs: int) -> list[Side]:
    """Each command timed ``runs`` times, all of them taking turns run by run (so a busy
    neighbour slows them alike), after a first run of each that warms the bytecode cache."""
    env = _env()
    for argv in commands:
        _time(argv, cwd, env)
    sides = [Side([], []) for _ in commands]
    for n in range(runs):
        print(f"  run {n + 1}/{runs}: {len(commands)} commands in turn", file=sys.stderr)
        for argv, side in zip(commands, sides, strict=True):
            before = _children_cpu()
            side.walls.append(_time(argv, cwd, env))
            side.cpus.append(_children_cpu() - before)
    return sides


def _turns(commands: list[list[str]], cwd: Path, runs: int) -> list[tuple[float, float]]:
    """Each command's median wall time and median CPU time, all of them taking turns."""
    return [(side.median("wall"), side.median("cpu")) for side in _sides(commands, cwd, runs)]


def verdict(diff: float, spread: float, target: float) -> str:
    """``met`` when even the difference plus the runs' spread is within the target, ``NO``
    when even the difference minus the spread is above it; else ``noise``: the spread
    straddles the target, and this run cannot tell."""
    if diff + spread <= target:
        return "met"
    if diff - spread > target:
        return "NO"
    return "noise"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _apirec_command() -> list[str]:
    """The console script beside this interpreter, as a user runs it; else ``-m apirec``."""
    script = Path(sys.executable).parent / "apirec"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "apirec"]


def _small_store(path: Path, n: int = 20) -> None:
    """``n`` JSON recordings made by the recorder: chat-sized answers, in one directory."""
    import apirec

    @apirec.record
    def answer(question: str) -> dict[str, object]:
        return {"id": f"chatcmpl-{question}", "content": "A short answer. " * 20, "tokens": 60}

    with apirec.recording(path, mode="record"):
        for n_ in range(n):
            answer(f"question {n_}")


def _cli_table(project: Path, runs: int) -> None:
    store = project / "recordings"
    _small_store(store)
    apirec = _apirec_command()
    names = ["apirec --help", f"apirec ls DIR ({len(list(store.glob('*.json')))} recordings)"]
    timed = _turns(
        [
            [*apirec, "--help"],
            [*apirec, "ls", str(store)],
            [sys.executable, "-c", "import apirec"],
            [sys.executable, "-c", "pass"],
        ],
        project,
        runs,
    )
    (import_ms, import_cpu), (pass_ms, pass_cpu) = timed[2:]
    print(f"\nthe command line: median of {runs} runs each, all four alternating")
    print(
        f"  baselines: python -c 'import apirec' {import_ms:.1f} ms (CPU {import_cpu:.1f}), "
        f"python -c pass {pass_ms:.1f} ms (CPU {pass_cpu:.1f})"
    )
    print(
        f"{'command':<31}{'ms':>7}{'- import':>10}{'/ import':>10}{'/ pass':>8}"
        f"{'CPU ms':>9}{'- import':>10}"
    )
    for name, (ms, cpu) in zip(names, timed, strict=False):
        print(
            f"{name:<31}{ms:>7.1f}{ms - import_ms:>+10.1f}{ms / import_ms:>9.2f}x"
            f"{ms / pass_ms:>7.2f}x{cpu:>9.1f}{cpu - import_cpu:>+10.1f}"
        )


CLOCKS = {"wall": "wall", "cpu": "CPU"}


def report(rows: list[tuple[str, str, str, Side, Side, float]], runs: int) -> None:
    """Each row on both clocks: the medians, the difference, the runs' spread, the target and
    the verdict; the verdict judges the difference of the medians of that clock."""
    print(
        f"median of {runs} runs each, sides alternating (ms); +-: the runs' spread (half the "
        "range of each side's runs, both sides added)"
    )
    print(
        "verdict: the difference of the medians on that line's clock against the target; "
        "met / NO only where diff +- spread lies wholly on one side of it, else noise"
    )
    print(
        f"{'row':<22}{'side':<18}{'baseline':<20}{'clock':<7}{'ms':>8}{'baseline':>10}"
        f"{'diff':>9}{'+-':>7}{'target':>8}{'verdict':>9}"
    )
    for row, side, base, ours, theirs, target in rows:
        for clock, label in CLOCKS.items():
            ms, base_ms = ours.median(clock), theirs.median(clock)
            diff, spread = ms - base_ms, ours.spread(clock) + theirs.spread(clock)
            first = clock == "wall"
            print(
                f"{row if first else '':<22}{side if first else '':<18}"
                f"{base if first else '':<20}{label:<7}{ms:>8.1f}{base_ms:>10.1f}"
                f"{diff:>+9.1f}{spread:>7.1f}{f'+{target:.0f}':>8}"
                f"{verdict(diff, spread, target):>9}"
            )
    print(
        "(the CPU line is the steadier one on a busy machine: a side made to wait for a core "
        "is not charged for it)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        print("pytest -q with and without the plugin...", file=sys.stderr)
        with_plugin, without = _sides([pytest, [*pytest, "-p", "no:apirec"]], project, args.runs)
        print("import apirec against its dependencies...", file=sys.stderr)
        imports, deps = _sides(
            [
                [sys.executable, "-c", "import apirec"],
                [sys.executable, "-c", "import pydantic, msgpack, xxhash, wrapt"],
            ],
            project,
            args.runs,
        )
    rows = [
        ("pytest -q, one test", "with the plugin", "-p no:apirec", with_plugin, without,
         PLUGIN_TARGET_MS),
        ("import", "import apirec", "its 4 dependencies", imports, deps, IMPORT_TARGET_MS),
    ]  # fmt: skip
    report(rows, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        print("the command line...", file=sys.stderr)
        _cli_table(Path(tmp), args.runs)


if __name__ == "__main__":
    main()
