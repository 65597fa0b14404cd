"""Loading a ``benchmarks/`` script by its path, as the benchmark tests do (not a test module)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"


def load_benchmark(file_name: str) -> ModuleType:
    """``benchmarks/<file_name>`` as a module of its own name; the scripts it imports from
    beside it (``paired.py``...) resolve while it loads, and ``sys.path`` is left as it was."""
    path = BENCHMARKS / file_name
    spec = importlib.util.spec_from_file_location(f"apirec_benchmark_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    path_before = list(sys.path)
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path_before
    return module
