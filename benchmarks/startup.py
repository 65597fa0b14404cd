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
"""

from __future__ import annotations

import argparse
import os
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


if __name__ == "__main__":
    main()
