"""How long ``apirec drift`` takes over a large store: seconds, end to end, in a subprocess.

    python benchmarks/drift.py              # 3,000 recordings, JSON and msgpack stores
    python benchmarks/drift.py -n 10000     # another size

The recordings are made from the fixture chat completion (and, with ``--stream``, from the
fixture 67-chunk stream), each with its own id and answer text so that no two are alike, in
apirec's file format with a ``versions`` key. Beside each figure: ``apirec verify`` over the
same store (reading and decoding every file), and a bare interpreter importing openai (the
floor: drift imports the trusted package to resolve its types).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openai

from apirec.stores.convert import convert
from apirec.stores.json_store import dumps

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "llama_stack"
CHAT = (
    FIXTURES
    / "sample/inference/recordings"
    / ("00bbacbcc8180b2151778cdac99b204e347526bc5509d4972f5fdb4d4bed2434.json")
)
STREAM = (
    FIXTURES
    / "sample/agents/recordings"
    / ("0a45299f33e179ae4e1058fcb9a6526cea3d5c4f47ee30660a453e114cbf0b85.json")
)


def make_store(root: Path, n: int, stream: bool) -> None:
    """``n`` recordings of a chat completion (or a stream), each made unique."""
    source = json.loads((STREAM if stream else CHAT).read_text())["response"]
    text = json.dumps(source)
    root.mkdir(parents=True)
    for i in range(n):
        key = f"{i:064x}"
        response = json.loads(text.replace("rec-", f"rec-{i}-"))
        if not stream:
            message = response["body"]["__data__"]["choices"][0]["message"]
            message["content"] = f"answer number {i}: {message.get('content') or ''}"
        entry = {
            "test_id": f"tests/test_bench.py::test_{i % 300}",
            "request": {"function": "openai.chat", "args": {"i": i}, "key": key},
            "response": response,
            "recorded_at": "2026-12-02T23:15:04Z",
            "versions": {"apirec": "0.1.0", "openai": openai.__version__},
        }
        (root / f"{key}.json").write_bytes(dumps(entry))


def seconds(*argv: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr}")
    return took


def best_of(repeat: int, *argv: str) -> float:
    return min(seconds(*argv) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="recordings (default 3,000)")
    parser.add_argument("--stream", action="store_true", help="streams instead of completions")
    parser.add_argument("--repeat", type=int, default=3, help="best of (default 3)")
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "json"
        make_store(store, args.n, args.stream)
        packed = Path(tmp) / "msgpack"
        convert(store, packed, to="msgpack")
        floor = best_of(args.repeat, "-c", "import openai.types.chat")
        rows.append(("python -c 'import openai.types.chat' (the floor)", floor))
        for name, path in (("JSON store", store), ("msgpack store", packed)):
            took = best_of(args.repeat, "-m", "apirec", "drift", str(path), "--trust", "openai")
            rows.append((f"apirec drift, {name}", took))
        took = best_of(args.repeat, "-m", "apirec", "verify", str(store), "--trust", "openai")
        rows.append(("apirec verify, JSON store", took))
    what = "streams of 67 chunks" if args.stream else "chat completions"
    print(f"{args.n:,} recordings ({what}), best of {args.repeat}:")
    for label, took in rows:
        print(f"  {label:<52} {took:6.2f} s")


if __name__ == "__main__":
    main()
