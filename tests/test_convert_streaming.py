"""``apirec convert`` and ``apirec ls`` stream: memory stays bounded whatever the store's size,
and a file name that is not UTF-8 converts both ways, byte for byte."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from apirec.cli.app import main
from apirec.stores.json_store import JsonStore
from apirec.stores.msgpack.store import MsgpackStore

RECORDINGS = 300
TEXT = 30_000  # characters of answer per recording: about 9 MB of recordings in all


def entry(i: int, rng: random.Random) -> dict[str, object]:
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", str(i)]
    text = " ".join(rng.choice(words) for _ in range(TEXT // 6))
    return {
        "test_id": f"tests/test_big.py::test_{i}",
        "request": {"function": "big.ask", "args": {"q": f"question {i}"}, "key": f"k{i}"},
        "response": {"body": {"text": text, "n": i}, "is_streaming": False},
        "id_normalization_mapping": {},
    }


def tree(root: Path) -> dict[bytes, bytes]:
    return {
        os.fsencode(p.relative_to(root)): p.read_bytes()
        for p in root.rglob("*.json")
        if ".apirec-tmp" not in p.parts
    }


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "json"
    store, rng = JsonStore(root), random.Random(7)
    for i in range(RECORDINGS):
        store.write(f"{i:032x}", entry(i, rng))
    return root


def size_of(root: Path) -> int:
    return sum(len(data) for data in tree(root).values())


# Run in a process of its own, after the same command once on a small store (what it imports
# and caches the first time is not what grows with a store): in a pytest-xdist worker,
# tracemalloc also counted what the worker's message thread allocated meanwhile.
PEAK = """
import io, json, sys, tracemalloc
from contextlib import redirect_stdout
from apirec.cli.app import main
warm_up, measured = json.loads(sys.argv[1])
with redirect_stdout(io.StringIO()):
    assert main(warm_up) == 0
    tracemalloc.start()
    assert main(measured) == 0
print(tracemalloc.get_traced_memory()[1])
"""


def peak(warm_up: list[str], *argv: str) -> int:
    """Peak memory allocated while ``apirec ARGV`` runs (its output discarded), in a process
    that ran ``apirec WARM_UP`` first.

    Before streaming, both commands held every recording: ``convert`` 1.1x the store's size
    and ``ls`` 1.3x; now a small part of it (0.1x to 0.15x for this store, most of it zlib's
    buffers and the index, which grow with the number of recordings, not their size).
    """
    script = [sys.executable, "-c", PEAK, json.dumps([warm_up, list(argv)])]
    done = subprocess.run(script, capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.fixture
def small_store(tmp_path: Path) -> Path:
    root = tmp_path / "small"
    store, rng = JsonStore(root), random.Random(3)
    for i in range(3):
        store.write(f"{i:032x}", entry(i, rng))
    return root


def test_convert_both_ways_streams_in_bounded_memory(big_store, small_store, tmp_path):
    size = size_of(big_store)
    assert size > 8_000_000
    warm = [str(small_store), str(tmp_path / "warm-mp"), "--to", "msgpack"]
    to_msgpack = peak(
        ["convert", *warm], "convert", str(big_store), str(tmp_path / "mp"), "--to", "msgpack"
    )
    warm = [str(tmp_path / "warm-mp"), str(tmp_path / "warm-back"), "--to", "json"]
    to_json = peak(
        ["convert", *warm], "convert", str(tmp_path / "mp"), str(tmp_path / "back"), "--to", "json"
    )
    # one recording at a time, the dictionary and the index: a small part of the store
    assert to_msgpack < size / 4, (to_msgpack, size)
    assert to_json < size / 4, (to_json, size)
    assert tree(tmp_path / "back") == tree(big_store)  # and still byte for byte


def test_ls_streams_in_bounded_memory(big_store, small_store):
    size = size_of(big_store)
    used = peak(["ls", str(small_store)], "ls", str(big_store))
    assert used < size / 4, (used, size)


def test_a_file_name_that_is_not_utf8_converts_both_ways(tmp_path, capsys):
    src = tmp_path / "json"
    store = JsonStore(src)
    store.write("a" * 32, entry(1, random.Random(1)))
    raw_name = os.fsencode(src) + b"/caf\xe9-recording.json"  # Latin-1, as an old tool wrote it
    with open(raw_name, "wb") as f:
        f.write((src / f"{'a' * 32}.json").read_bytes())
    (src / "sub").mkdir()
    with open(os.fsencode(src) + b"/sub/\xff.json", "wb") as f:
        f.write(b'{"response": {"body": 2}}')
    assert main(["convert", str(src), str(tmp_path / "mp"), "--to", "msgpack"]) == 0
    assert main(["convert", str(tmp_path / "mp"), str(tmp_path / "back"), "--to", "json"]) == 0
    assert tree(tmp_path / "back") == tree(src)
    assert len(tree(src)) == 3
    listed = [where for _, _, where in MsgpackStore(tmp_path / "mp").entries()]
    assert any(where.endswith("::caf\udce9-recording.json") for where in listed), listed
    assert "converted 3 recordings" in capsys.readouterr().out
