"""What the pytest plugin costs a run that uses no recording, and what ``import apirec`` costs.

    python benchmarks/startup.py            # 15 runs of each side
    python benchmarks/startup.py --runs 31

Whole processes, as a user starts them: ``python -m pytest -q`` on a one-test project in a
temporary directory with the plugin (entry point ``apirec``) against the same run with
``-p no:apirec``, and the same in a project whose ``pytest.ini`` configures apirec as the
README teaches (``apirec_integrations = openai``, ``apirec_mode = replay``: the start-up
checks them and sets the placeholder key, and the plugin waits for a first use, which the one
test does not make), against that project without apirec (``-p no:apirec`` and an ini without
apirec's keys, which pytest would warn of); then
``python -c "import apirec"`` against ``python -c "import pydantic,
msgpack, xxhash, wrapt"`` (apirec's dependencies alone). The two sides of a row take turns,
round by round, so a busy neighbour slows both alike. On each clock, the wall time and the
children's CPU time (user + system), a row gives each side's median, the median of the paired
differences (a round's run minus the same round's baseline run) with its distribution-free
interval (the sign test's, from order statistics, 95% with its actual coverage printed; below
6 rounds the widest one and its lower coverage; see ``paired.py``), and a verdict: ``met``
when the whole interval is at or below the target, ``NO`` when all of it is above, ``unsure``
when it straddles the target (more runs narrow it). Compiled modules are cached as on a user's
machine (PYTHONDONTWRITEBYTECODE is unset in the children, and a first run of each side warms
the cache). Targets (issue 19): the plugin at most +15 ms, ``import apirec`` at most +40 ms.

A second table: the ``apirec`` console script, ``apirec --help`` and ``apirec ls DIR`` on a
directory of 20 JSON recordings, against ``python -c "import apirec"`` (what the command cannot
avoid) and ``python -c pass`` (the interpreter alone), all four taking turns round by round;
beside the wall times, the children's CPU time (user + system), which a busy machine inflates
less, each with the median paired difference from ``import apirec`` and its interval. Target
(issue 19): each starts as fast as ``import apirec`` allows.

``--python PATH`` measures another environment's interpreter: a user's regular (wheel)
install, where pytest also rewrites the asserts of every apirec module the run imports (it
does so for every module of a distribution with a ``pytest11`` entry point; an editable
install's files are not listed, so a development checkout pays less). ``--instructions`` adds
the two pytest rows counted in instructions by valgrind, a clock a busy neighbour cannot skew
(``instructions.py``).
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

# paired.py lives beside this script; a test loads this file by its path, not as a script
sys.path.insert(0, str(Path(__file__).resolve().parent))

import instructions
import paired
from paired import LEGEND_VERDICT, Interval, explain, paired_interval, unsure_note, verdict

PLUGIN_TARGET_MS = 15.0
# the README's set-up: the SDKs to patch and the mode, in the project's ini
CONFIGURED_INI = "[pytest]\napirec_integrations = openai\napirec_mode = replay\n"
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

    def runs(self, clock: str) -> list[float]:
        """The runs on ``clock`` (``wall`` or ``cpu``), in the order of the rounds."""
        return self.walls if clock == "wall" else self.cpus

    def median(self, clock: str) -> float:
        return statistics.median(self.runs(clock))

    def against(self, baseline: Side, clock: str) -> Interval:
        """The median of the rounds' paired differences, this side's run minus the same
        round's ``baseline`` run, with its interval."""
        return paired_interval(self.runs(clock), baseline.runs(clock))


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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _apirec_command(python: str) -> list[str]:
    """The console script beside ``python``, as a user runs it; else ``-m apirec``."""
    script = Path(python).parent / "apirec"
    return [str(script)] if script.is_file() else [python, "-m", "apirec"]


_SMALL_STORE = """
import sys
import apirec

@apirec.record
def answer(question):
    return {"id": f"chatcmpl-{question}", "content": "A short answer. " * 20, "tokens": 60}

with apirec.recording(sys.argv[1], mode="record"):
    for n in range(int(sys.argv[2])):
        answer(f"question {n}")
"""


def _small_store(path: Path, python: str, n: int = 20) -> None:
    """``n`` JSON recordings made by the recorder of ``python`` (the environment measured,
    which this script's own Python may not have apirec in): chat-sized answers."""
    subprocess.run([python, "-c", _SMALL_STORE, str(path), str(n)], check=True)


def _cli_table(project: Path, runs: int, python: str) -> None:
    store = project / "recordings"
    _small_store(store, python)
    apirec = _apirec_command(python)
    names = ["apirec --help", f"apirec ls DIR ({len(list(store.glob('*.json')))} recordings)"]
    sides = _sides(
        [
            [*apirec, "--help"],
            [*apirec, "ls", str(store)],
            [python, "-c", "import apirec"],
            [python, "-c", "pass"],
        ],
        project,
        runs,
    )
    cli_table(names, sides, runs)


def cli_table(names: list[str], sides: list[Side], runs: int) -> None:
    """The commands against ``import apirec`` (the third side) and ``pass`` (the fourth):
    medians, the median paired difference from ``import apirec`` with its interval, ratios."""
    imports, bare = sides[2:]
    import_ms, import_cpu = imports.median("wall"), imports.median("cpu")
    print(f"\nthe command line: median of {runs} runs each, all four alternating")
    print(
        f"  baselines: python -c 'import apirec' {import_ms:.1f} ms (CPU {import_cpu:.1f}), "
        f"python -c pass {bare.median('wall'):.1f} ms (CPU {bare.median('cpu'):.1f})"
    )
    print(
        "  - import: the median of the rounds' paired differences, a round's run minus the "
        "same round's 'import apirec'"
    )
    print(f"  {explain(runs)}")
    print(
        f"{'command':<31}{'ms':>7}{'- import':>10}{'interval':>16}{'/ import':>10}{'/ pass':>8}"
        f"{'CPU ms':>9}{'- import':>10}{'interval':>16}"
    )
    for name, side in zip(names, sides, strict=False):
        ms, cpu = side.median("wall"), side.median("cpu")
        wall_diff, cpu_diff = side.against(imports, "wall"), side.against(imports, "cpu")
        print(
            f"{name:<31}{ms:>7.1f}{wall_diff.median:>+10.1f}{wall_diff.cell(1):>16}"
            f"{ms / import_ms:>9.2f}x{ms / bare.median('wall'):>7.2f}x{cpu:>9.1f}"
            f"{cpu_diff.median:>+10.1f}{cpu_diff.cell(1):>16}"
        )


CLOCKS = {"wall": "wall", "cpu": "CPU"}


def report(rows: list[tuple[str, str, str, Side, Side, float]], runs: int) -> None:
    """Each row on both clocks: the medians, the median of the rounds' paired differences and
    its interval, the target and the verdict; the verdict judges that line's clock."""
    print(
        f"median of {runs} runs each, sides alternating (ms); diff: the median of the rounds' "
        "paired differences (a round's run minus the same round's baseline run)"
    )
    print(f"  {explain(runs)}")
    print(f"verdict: the interval on that line's clock against the target\n  {LEGEND_VERDICT}")
    print(
        f"{'row':<22}{'side':<18}{'baseline':<20}{'clock':<7}{'ms':>8}{'baseline':>10}"
        f"{'diff':>9}{'interval':>18}{'target':>8}{'verdict':>9}"
    )
    verdicts = []
    for row, side, base, ours, theirs, target in rows:
        for clock, label in CLOCKS.items():
            diff = ours.against(theirs, clock)
            verdicts.append(verdict(diff, target))
            first = clock == "wall"
            print(
                f"{row if first else '':<22}{side if first else '':<18}"
                f"{base if first else '':<20}{label:<7}{ours.median(clock):>8.1f}"
                f"{theirs.median(clock):>10.1f}{diff.median:>+9.1f}{diff.cell(1):>18}"
                f"{f'+{target:.0f}':>8}{verdicts[-1]:>9}"
            )
    print(
        "(the CPU line is the steadier one on a busy machine: a side made to wait for a core "
        "is not charged for it)"
    )
    note = unsure_note(verdicts)
    if note:
        print(note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=15, help="rounds, each side once a round (default 15)"
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        metavar="PATH",
        help="the interpreter of the environment to measure (default: this one)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the pytest rows' instructions with valgrind (3 runs a side)",
    )
    args = parser.parse_args()
    if args.instructions and not instructions.available():
        parser.error("--instructions needs valgrind on PATH")
    problem = paired.runs_error(args.runs)
    if problem:
        parser.error(problem)
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "plain"  # beside the configured one, not above it
        project.mkdir()
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        python = args.python
        pytest = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        print("pytest -q with and without the plugin...", file=sys.stderr)
        with_plugin, without = _sides([pytest, [*pytest, "-p", "no:apirec"]], project, args.runs)
        # A project configured as the README teaches: the start-up applies what cannot wait
        # (usage errors, placeholder keys); this run's one test uses no recording.
        configured = Path(tmp) / "configured"
        configured.mkdir()
        (configured / "pytest.ini").write_text(CONFIGURED_INI)
        (configured / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        # its baseline is the project without apirec: an ini without apirec's keys, which
        # pytest would otherwise warn of (work the plugin's side does not do)
        (configured / "without.ini").write_text("[pytest]\n")
        configured_without = [*pytest, "-p", "no:apirec", "-c", "without.ini"]
        print("the same in a project with apirec configured in its ini...", file=sys.stderr)
        set_up, set_up_without = _sides([pytest, configured_without], configured, args.runs)
        counted = []
        if args.instructions:
            print("counting instructions (valgrind)...", file=sys.stderr)
            for row, where, baseline, without_argv in (
                ("pytest -q, one test", project, without, [*pytest, "-p", "no:apirec"]),
                ("pytest -q, configured", configured, set_up_without, configured_without),
            ):
                ours, theirs = (
                    instructions.count(argv, where, _env(), 3) for argv in (pytest, without_argv)
                )
                counted.append((row, instructions.Counted(ours, theirs, baseline.median("cpu"))))
        print("import apirec against its dependencies...", file=sys.stderr)
        imports, deps = _sides(
            [
                [python, "-c", "import apirec"],
                [python, "-c", "import pydantic, msgpack, xxhash, wrapt"],
            ],
            project,
            args.runs,
        )
    rows = [
        ("pytest -q, one test", "with the plugin", "-p no:apirec", with_plugin, without,
         PLUGIN_TARGET_MS),
        ("pytest -q, configured", "with the plugin", "without apirec", set_up, set_up_without,
         PLUGIN_TARGET_MS),
        ("import", "import apirec", "its 4 dependencies", imports, deps, IMPORT_TARGET_MS),
    ]  # fmt: skip
    report(rows, args.runs)
    if counted:
        print(
            "\ninstructions (valgrind, the median of 3 runs a side) with the plugin against the "
            "same run without apirec; est. ms: the extra share of the baseline's median CPU time"
        )
        print(f"{'row':<24}{instructions.HEADER}")
        for row, numbers in counted:
            print(f"{row:<24}{numbers.cells(PLUGIN_TARGET_MS)}")
    with tempfile.TemporaryDirectory() as tmp:
        print("the command line...", file=sys.stderr)
        _cli_table(Path(tmp), args.runs, args.python)


if __name__ == "__main__":
    main()
