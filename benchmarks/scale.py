"""What ``apirec ls``, ``verify`` and ``drift`` cost as a store grows: 1,000 and 10,000 recordings.

    python benchmarks/scale.py              # 1,000 and 10,000 recordings, 3 runs each
    python benchmarks/scale.py --sizes 1000 3000 --runs 5

The stores: a few recordings made by the recorder (an openai ``ChatCompletion``, a stream of
``ChatCompletionChunk`` and an error, through ``@apirec.record``) are copied under new keys
into one JSON directory (100 tests of ``n / 100`` recordings each), and that directory is
converted into a msgpack store (``apirec convert``'s code). Each command runs in a fresh
process that first imports the command and the recorded types' package (``openai``), then
times only ``main([...])``, so the figures are the work that grows with the store, not the
interpreter's start (``benchmarks/startup.py`` times that). ``verify`` and ``drift`` run with
``--trust openai``. Each figure is the median of the runs; the growth is the cost per
recording at the largest size over the cost per recording at the smallest: 1.0 is flat.
``ls`` reads JSON files only (it names ``apirec convert`` for a msgpack store).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apirec
from apirec.stores.convert import convert
from apirec.stores.json_store import dumps

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "llama_stack" / "sample"
CHAT = (
    FIXTURES
    / "inference/recordings/00bbacbcc8180b2151778cdac99b204e347526bc5509d4972f5fdb4d4bed2434.json"
)
STREAM = (
    FIXTURES
    / "agents/recordings/0a45299f33e179ae4e1058fcb9a6526cea3d5c4f47ee30660a453e114cbf0b85.json"
)
COMMANDS = {
    "ls": ["ls"],
    "verify": ["verify", "--trust", "openai"],
    "drift": ["drift", "--trust", "openai"],
}
TIMED = """
import contextlib, importlib, os, sys, time
import openai.types.chat  # the recorded types' package, as a user's environment has it
from apirec.cli import app
importlib.import_module("apirec.cli." + app._COMMANDS[sys.argv[1]][0])
with open(os.devnull, "w") as out, contextlib.redirect_stdout(out):
    start = time.perf_counter()
    code = app.main(sys.argv[1:])
    elapsed = time.perf_counter() - start
print(f"{elapsed} {code}", file=sys.stderr)
"""


@apirec.record(name="bench.answer")
def answer(i: int) -> Any:
    raise AssertionError("replaced by a template below")


def _templates(tmp: Path) -> list[dict[str, Any]]:
    """Entries made by the recorder: a chat completion, a stream of chunks, an error."""
    chat = apirec.decode(
        json.loads(CHAT.read_bytes())["response"]["body"], trusted_modules=["openai"]
    )
    chunks = apirec.decode(
        json.loads(STREAM.read_bytes())["response"]["body"], trusted_modules=["openai"]
    )

    @apirec.record(name="bench.chat")
    def complete(i: int) -> Any:
        return chat

    @apirec.record(name="bench.stream")
    def stream(i: int) -> Iterator[Any]:
        yield from chunks

    @apirec.record(name="bench.fail")
    def fail(i: int) -> Any:
        raise ValueError(f"no answer for {i}")

    store = tmp / "templates"
    with apirec.recording(store, mode="record", store_errors="all", test_id="t.py::t"):
        complete(0)
        list(stream(0))
        with contextlib.suppress(ValueError):
            fail(0)
    return [json.loads(p.read_bytes()) for p in sorted(store.glob("*.json"))]


def make_json_store(root: Path, n: int, templates: list[dict[str, Any]]) -> None:
    """``n`` recordings of ``answer(i)``, each a copy of a template under its own key, in
    tests of 100 recordings each."""
    spec = answer.__apirec_spec__  # type: ignore[attr-defined]
    root.mkdir(parents=True)
    for i in range(n):
        test_id = f"tests/test_scale_{i // 1000}.py::test_{i // 100}"
        args = spec.canonical(spec.bind(None, (i,), {}))[0]
        k = spec.key(args, test_id)
        entry = copy.copy(templates[i % len(templates)])
        entry["test_id"] = test_id
        entry["request"] = {"function": "bench.answer", "args": args, "key": k}
        (root / f"{k}.json").write_bytes(dumps(entry))


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def time_command(argv: list[str], runs: int) -> float:
    """The median seconds of ``apirec ARGV``'s own work, over ``runs`` fresh processes."""
    times = []
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", TIMED, *argv], env=_env(), capture_output=True, text=True
        )
        last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        elapsed, _, code = last.partition(" ")
        if code not in ("0", "1"):
            raise SystemExit(f"apirec {' '.join(argv)} failed:\n{result.stderr}")
        times.append(float(elapsed))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes: list[int] = sorted(args.sizes)
    results: dict[tuple[str, str, int], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        templates = _templates(root)
        for n in sizes:
            made = time.perf_counter()
            json_dir, msgpack_dir = root / f"json-{n}", root / f"msgpack-{n}"
            make_json_store(json_dir, n, templates)
            convert(json_dir, msgpack_dir, to="msgpack")
            print(f"  made {n:,} recordings ({time.perf_counter() - made:.1f} s)", file=sys.stderr)
            for store, where in (("json", json_dir), ("msgpack", msgpack_dir)):
                for name, argv in COMMANDS.items():
                    if name == "ls" and store == "msgpack":
                        continue
                    results[name, store, n] = time_command([*argv, str(where)], args.runs)
                    print(f"  {name} {store} {n:,}: {results[name, store, n]:.2f} s",
                          file=sys.stderr)  # fmt: skip
    print(f"median of {args.runs} runs each, the command's own work (start-up excluded)")
    head = "".join(f"{f'{n:,}: s':>12}{'µs/rec':>9}" for n in sizes)
    print(f"{'command':<10}{'store':<9}{head}{'growth':>8}")
    for name in COMMANDS:
        for store in ("json", "msgpack"):
            if (name, store, sizes[0]) not in results:
                continue
            per = [results[name, store, n] / n * 1e6 for n in sizes]
            cells = "".join(
                f"{results[name, store, n]:>12.2f}{p:>9.0f}"
                for n, p in zip(sizes, per, strict=True)
            )
            print(f"{name:<10}{store:<9}{cells}{per[-1] / per[0]:>7.2f}x")


if __name__ == "__main__":
    main()
