"""What the pytest plugin costs a run that uses no recording, and what ``import apirec`` costs.

    python benchmarks/startup.py            # 15 runs of each side
    python benchmarks/startup.py --runs 31

Whole processes, as a user starts them: ``python -m pytest -q`` on a one-test project in a
temporary directory with the plugin (entry point ``apirec``) against the same run with
``-p no:apirec``; then ``python -c "import apirec"`` against ``python -c "import pydantic,
msgpack, xxhash, wrapt"`` (apirec's dependencies alone). The two sides of a row take turns, run
by run, so a busy neighbour slows both alike; each figure is the median wall time. Compiled
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


def _pair(a: list[str], b: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    env = _env()
    _time(a, cwd, env), _time(b, cwd, env)  # warm the bytecode cache
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(runs):
        times_a.append(_time(a, cwd, env))
        times_b.append(_time(b, cwd, env))
    return statistics.median(times_a), statistics.median(times_b)


def _turns(commands: list[list[str]], cwd: Path, runs: int) -> list[tuple[float, float]]:
    """Each command's median wall time and median CPU time (user + system, which a busy
    neighbour inflates less), all of them taking turns run by run."""
    env = _env()
    for argv in commands:
        _time(argv, cwd, env)  # warm the bytecode cache
    walls: list[list[float]] = [[] for _ in commands]
    cpus: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for argv, wall, cpu in zip(commands, walls, cpus, strict=True):
            before = _children_cpu()
            wall.append(_time(argv, cwd, env))
            cpu.append(_children_cpu() - before)
    return [
        (statistics.median(wall), statistics.median(cpu))
        for wall, cpu in zip(walls, cpus, strict=True)
    ]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text("[pytest]\n")
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        with_plugin, without = _pair(pytest, [*pytest, "-p", "no:apirec"], project, args.runs)
        imports, deps = _pair(
            [sys.executable, "-c", "import apirec"],
            [sys.executable, "-c", "import pydantic, msgpack, xxhash, wrapt"],
            project,
            args.runs,
        )
    rows = [
        ("pytest -q, one test", "with the plugin", "-p no:apirec", with_plugin, without,
         PLUGIN_TARGET_MS),
        ("import", "import apirec", "its 4 dependencies", imports, deps, IMPORT_TARGET_MS),
    ]  # fmt: skip
    print(f"median of {args.runs} runs each, sides alternating (ms)")
    print(f"{'row':<22}{'side':<18}{'ms':>8}  {'baseline':<20}{'ms':>8}{'diff':>9}{'target':>9}")
    for row, side, base, ms, base_ms, target in rows:
        diff = ms - base_ms
        print(
            f"{row:<22}{side:<18}{ms:>8.1f}  {base:<20}{base_ms:>8.1f}{diff:>+9.1f}"
            f"{f'+{target:.0f}':>9}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        _cli_table(Path(tmp), args.runs)


if __name__ == "__main__":
    main()
