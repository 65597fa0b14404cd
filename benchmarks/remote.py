"""The remote store (issue 22): pulling, replaying from the cache, and what git keeps.

    python benchmarks/remote.py             # 1,000 objects, 3 pulls a side, 5 replay rounds
    python benchmarks/remote.py --quick     # 300 objects, 2 pulls a side, 3 rounds

Three rows, each a ratio against a baseline measured in the same run:

* ``apirec pull`` of N objects (embedding answers of 4 x 1,536 floats, about 130 KB of
  JSON each, over the 64 KiB threshold; one 1,536-float answer, about 32 KB, stays in git)
  into an empty cache, ``--jobs 16`` against ``--jobs 1``: the whole command in a
  subprocess, wall clock, the two sides taking turns, median of the runs; from moto's S3
  server on 127.0.0.1 in a thread of this process (as the tests run it), from moto's
  standalone server in a process of its own (``python -m moto.server``: the concurrency
  meets a server with its own interpreter), and from a ``file://`` copy;
* a replay of a recording whose 100 KiB bytes payload is in the warm cache (``remote=``),
  against the same recording with its payload in today's local ``blobs/``: open the
  recording, replay one call, close, per call; the sides alternate round by round, median per
  call. Target: within 1.2x;
* the bytes a checkout's recordings take (``du --apparent-size`` of the recordings directory:
  what git holds), for N embeddings recorded with and without the remote.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import apirec
from tests.s3_server import S3Server

ROOT = Path(__file__).resolve().parent.parent
DIMENSIONS = 1536  # text-embedding-3-small
BATCH = 4  # inputs per call: about 130 KB of JSON an answer, over the 64 KiB threshold
TEST = "tests/test_search.py::test_{}"


@apirec.record(name="openai.embeddings.create")
def embed(texts: list[str]) -> dict[str, object]:
    """An answer shaped like openai's, full-precision floats as the API returns them."""
    data = []
    for n, text in enumerate(texts):
        rng = random.Random(text)
        vector = [rng.uniform(-0.1, 0.1) for _ in range(DIMENSIONS)]
        data.append({"object": "embedding", "index": n, "embedding": vector})
    usage = {"prompt_tokens": 8 * len(texts), "total_tokens": 8 * len(texts)}
    return {"object": "list", "model": "text-embedding-3-small", "data": data, "usage": usage}


@apirec.record(name="tts.speak")
def speak(text: str) -> bytes:
    block = hashlib.sha256(text.encode()).digest()
    return (block * (100 * 1024 // 32 + 1))[: 100 * 1024]


class MotoProcess(S3Server):
    """moto's standalone server as a process of its own on 127.0.0.1 (``python -m
    moto.server``, what ``moto_server`` runs): the pulls then meet a server with its own
    interpreter, as they would a real one, not threads of this process."""

    def start(self) -> MotoProcess:
        with socket.socket() as probe:  # a free port, handed to the server
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        argv = [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)]
        self._process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2):
                    break
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"moto's server did not start on {self.endpoint}") from None
                time.sleep(0.1)
        self.prepare()
        return self

    def stop(self) -> None:
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def record_embeddings(root: Path, n: int, remote: str | None) -> None:
    with apirec.recording(root, mode="record", remote=remote):
        for i in range(n):
            with apirec.test_context(TEST.format(i % 300)):
                embed([f"document {i}.{n}" for n in range(BATCH)])


def size_of(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def pull_seconds(root: Path, url: str, jobs: int, cache: Path, env: dict[str, str]) -> float:
    shutil.rmtree(cache, ignore_errors=True)
    argv = [sys.executable, "-m", "apirec", "pull", str(root), "--jobs", str(jobs), "-q"]
    start = time.perf_counter()
    done = subprocess.run(
        [*argv, "--remote", url],
        capture_output=True,
        text=True,
        env={**env, "APIREC_CACHE_DIR": str(cache)},
        check=False,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pull failed:\n{done.stdout}{done.stderr}")
    return took


def per_call(replay: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        replay()
    return (time.perf_counter() - start) / calls


def replayer(root: Path, remote: str | None) -> Callable[[], None]:
    def replay() -> None:
        with apirec.recording(root, mode="replay", remote=remote, test_id=TEST.format(0)):
            speak("audio")

    return replay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="objects (default 1,000)")
    parser.add_argument("--runs", type=int, default=3, help="pulls a side (default 3)")
    parser.add_argument("--rounds", type=int, default=5, help="replay rounds (default 5)")
    parser.add_argument("--quick", action="store_true", help="300 objects, fewer runs")
    args = parser.parse_args()
    if args.quick:
        args.n, args.runs, args.rounds = 300, 2, 3

    rows: list[tuple[str, str, str, str]] = []
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per request otherwise
    server = S3Server().start()
    own = MotoProcess().start()
    saved = dict(os.environ)
    try:
        os.environ.update(server.environment())
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            os.environ["APIREC_CACHE_DIR"] = str(base / "recording-cache")
            env = {**os.environ, "PYTHONPATH": str(ROOT)}

            # what git keeps: the same suite with and without the remote
            local, shared = base / "local", base / "shared"
            record_embeddings(local, args.n, None)
            record_embeddings(shared, args.n, server.remote_url)
            kept, remote_kept = size_of(local), size_of(shared)
            rows.append(
                (
                    f"recordings of {args.n:,} embeddings (bytes in git)",
                    f"{kept / 1e6:.2f} MB",
                    f"{remote_kept / 1e6:.2f} MB",
                    f"{remote_kept / kept:.3f}x",
                )
            )

            # pull: --jobs 16 against --jobs 1, in turns, from moto's server in a thread of
            # this process, from its standalone server in a process of its own (both filled
            # by apirec push), and from a file:// copy, where no server is the bottleneck
            copy = f"file://{base / 'copy'}"
            own_env = {**env, **own.environment()}
            for url, push_env in ((copy, env), (own.remote_url, own_env)):
                subprocess.run(
                    [sys.executable, "-m", "apirec", "push", str(shared), "--remote", url, "-q"],
                    env=push_env,
                    check=True,
                    capture_output=True,
                )
            sources = (
                ("moto S3 (a thread here)", server.remote_url, env),
                ("moto_server process", own.remote_url, own_env),
                ("file://", copy, env),
            )
            for label, url, pull_env in sources:
                serial, parallel = [], []
                for _ in range(args.runs):
                    serial.append(pull_seconds(shared, url, 1, base / "c1", pull_env))
                    parallel.append(pull_seconds(shared, url, 16, base / "c16", pull_env))
                one, sixteen = statistics.median(serial), statistics.median(parallel)
                rows.append(
                    (
                        f"apirec pull of {args.n:,} objects from {label}, --jobs 16 vs 1",
                        f"{one:.2f} s",
                        f"{sixteen:.2f} s",
                        f"{sixteen / one:.3f}x ({one / sixteen:.1f}x faster)",
                    )
                )

            # replay: warm cache against local blobs/
            blobs_dir, cached_dir = base / "blobs-store", base / "cached-store"
            for root, remote in ((blobs_dir, None), (cached_dir, server.remote_url)):
                with apirec.recording(root, mode="record", remote=remote, test_id=TEST.format(0)):
                    speak("audio")
            from_blobs = replayer(blobs_dir, None)
            from_cache = replayer(cached_dir, server.remote_url)
            from_blobs(), from_cache()  # warm: imports, the cache, the page cache
            calls = 200
            a, b = [], []
            for _ in range(args.rounds):
                a.append(per_call(from_blobs, calls))
                b.append(per_call(from_cache, calls))
            local_call, cached_call = statistics.median(a), statistics.median(b)
            rows.append(
                (
                    "replay of a 100 KiB payload: warm cache vs local blobs/",
                    f"{local_call * 1e3:.3f} ms",
                    f"{cached_call * 1e3:.3f} ms",
                    f"{cached_call / local_call:.3f}x (target <= 1.2x)",
                )
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
        own.stop()

    headers = ("row", "baseline", "measured", "ratio")
    widths = [max(len(r[i]) for r in (headers, *rows)) for i in range(4)]
    for row in (headers, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
