"""apirec's speed, as ratios against baselines measured in the same run (DESIGN §8).

    python benchmarks/run.py            # full run, a few minutes
    python benchmarks/run.py --quick    # under a minute, noisier
    python benchmarks/run.py --json     # machine-readable rows

Every figure is the median per call over many repetitions. Replays go through the public API
on the real openai SDK: ``rec.patch`` on ``AsyncCompletions.create`` / ``AsyncEmbeddings.create``
of an ``AsyncOpenAI`` client whose HTTP transport serves the fixture recordings (used only
while recording; replay never reaches it). The baseline is ``seeds_recorder.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import wrapt

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apirec  # noqa: E402
from apirec.convert import convert  # noqa: E402
from apirec.store import dumps  # noqa: E402
from seeds_recorder import SeedsRecorder, request_hash  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "llama_stack"
CHAT = (
    FIXTURES
    / "sample/inference/recordings/00bbacbcc8180b2151778cdac99b204e347526bc5509d4972f5fdb4d4bed2434.json"
)  # noqa: E501
EMBEDDING = (
    FIXTURES
    / "sample/responses/recordings/050f63320eeea2dc946617884f63e55d84fd718af642afa609c36154deb34dce.json"
)  # noqa: E501
STREAM = (
    FIXTURES
    / "sample/agents/recordings/0a45299f33e179ae4e1058fcb9a6526cea3d5c4f47ee30660a453e114cbf0b85.json"
)  # noqa: E501
KEY_REQUEST = (
    FIXTURES / "seeds/753402bc96db80de2495897f31d92129aa492b1abca935feaa2a773434574d65.json"
)  # noqa: E501
CHAT_TARGET = "openai.resources.chat.completions.AsyncCompletions.create"
EMBED_TARGET = "openai.resources.embeddings.AsyncEmbeddings.create"


@dataclass
class Row:
    section: str
    case: str
    apirec_us: float
    baseline: str
    baseline_us: float
    target: str
    ratio: float = 0.0  # how many times faster apirec is (or, for overheads, its cost ratio)
    ok: bool | None = None


class Bench:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.repeats = 7 if quick else 21
        self.rows: list[Row] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="apirec-bench-"))

    def n(self, full: int) -> int:
        return max(5, full // 5) if self.quick else full

    # -- timing -------------------------------------------------------------------------

    def time_sync(self, fn: Callable[[], Any], number: int) -> float:
        samples = []
        for _ in range(self.repeats):
            gc.collect()
            start = time.perf_counter_ns()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter_ns() - start) / number / 1000)
        return statistics.median(samples)

    async def time_async(self, fn: Callable[[], Awaitable[Any]], number: int) -> float:
        samples = []
        for _ in range(self.repeats):
            gc.collect()
            start = time.perf_counter_ns()
            for _ in range(number):
                await fn()
            samples.append((time.perf_counter_ns() - start) / number / 1000)
        return statistics.median(samples)

    def add(self, row: Row, *, faster_by: float | None = None, at_most: float | None = None,
            under_us: float | None = None) -> None:  # fmt: skip
        if faster_by is not None:
            row.ratio = row.baseline_us / row.apirec_us
            row.ok = row.ratio >= faster_by
        elif at_most is not None:
            row.ratio = row.apirec_us / row.baseline_us
            row.ok = row.ratio <= at_most
        elif under_us is not None:
            row.ratio = row.baseline_us / row.apirec_us
            row.ok = row.apirec_us < under_us
        self.rows.append(row)
        print(f"  {row.section} {row.case}: {row.apirec_us:.2f} us vs {row.baseline_us:.2f} us",
              file=sys.stderr)  # fmt: skip


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())


# -- (a) the wrapper's own cost ----------------------------------------------------------------


def plain(x: int) -> int:
    return x


async def aplain(x: int) -> int:
    return x


def _passthrough(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return wrapped(*args, **kwargs)


def overhead(b: Bench) -> None:
    bare, abare = (
        wrapt.FunctionWrapper(plain, _passthrough),
        wrapt.FunctionWrapper(aplain, _passthrough),
    )  # noqa: E501
    rec, arec = apirec.record(plain), apirec.record(aplain)
    number = b.n(200_000)
    t_plain = b.time_sync(lambda: plain(1), number)
    t_bare = b.time_sync(lambda: bare(1), number)
    t_rec = b.time_sync(lambda: rec(1), number)
    with apirec.recording(b.tmp / "live", mode="live"):
        t_live = b.time_sync(lambda: rec(1), number)
    sec = "a. decorated call"
    b.add(
        Row(sec, "sync, no recording", t_rec, "wrapt pass-through", t_bare, "<= 1.5x"), at_most=1.5
    )
    b.add(Row(sec, "sync, live mode", t_live, "wrapt pass-through", t_bare, "<= 1.5x"), at_most=1.5)
    b.add(Row(sec, "sync, no recording", t_rec, "undecorated", t_plain, "(info)"), at_most=1e9)

    async def run() -> tuple[float, ...]:
        async def call(f: Callable[[int], Awaitable[int]]) -> int:
            return await f(1)

        t_plain = await b.time_async(lambda: call(aplain), number // 2)
        t_bare = await b.time_async(lambda: call(abare), number // 2)
        t_rec = await b.time_async(lambda: call(arec), number // 2)
        with apirec.recording(b.tmp / "live", mode="live"):
            t_live = await b.time_async(lambda: call(arec), number // 2)
        return t_plain, t_bare, t_rec, t_live

    t_plain, t_bare, t_rec, t_live = asyncio.run(run())
    b.add(
        Row(sec, "async, no recording", t_rec, "wrapt pass-through", t_bare, "<= 1.5x"), at_most=1.5
    )  # noqa: E501
    b.add(
        Row(sec, "async, live mode", t_live, "wrapt pass-through", t_bare, "<= 1.5x"), at_most=1.5
    )  # noqa: E501
    b.add(Row(sec, "async, no recording", t_rec, "undecorated", t_plain, "(info)"), at_most=1e9)


# -- (b) the key of a chat request -------------------------------------------------------------


def key(b: Bench) -> None:
    recording = load(KEY_REQUEST)
    request = recording["request"]
    body = request["body"]
    size = len(json.dumps(body))
    with apirec.patch(CHAT_TARGET, name="openai.chat") as p:
        from openai.resources.chat.completions import AsyncCompletions

        spec = AsyncCompletions.create.__apirec_spec__
        assert p.active

    def apirec_key() -> str:
        bound = spec.bind(object(), (), body)
        return spec.key(spec.canonical(bound)[0], recording["test_id"])

    def seeds_key() -> str:
        return request_hash("POST", request["url"], body, recording["test_id"])

    number = b.n(5000)
    t_apirec, t_seeds = b.time_sync(apirec_key, number), b.time_sync(seeds_key, number)
    b.add(Row("b. key", f"chat request ({size / 1000:.1f} KB, a seed's)", t_apirec,
              "seeds: regex+sorted JSON+SHA-256", t_seeds, "< 20 us"), under_us=20)  # fmt: skip


# -- (c) replay hits ---------------------------------------------------------------------------


def sse(chunks: list[dict[str, Any]]) -> bytes:
    events = [b"data: " + json.dumps(c["__data__"]).encode() + b"\n\n" for c in chunks]
    return b"".join(events) + b"data: [DONE]\n\n"


class Served:
    """The HTTP side of the openai client while recording: the fixture answers."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[bytes, str]] = {}
        self.hits = 0

    def serve(self, path: str, recording: dict[str, Any]) -> None:
        body = recording["response"]["body"]
        if recording["response"]["is_streaming"]:
            self.answers[path] = (sse(body), "text/event-stream")
        else:
            self.answers[path] = (json.dumps(body["__data__"]).encode(), "application/json")

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.hits += 1
        content, kind = self.answers[request.url.path]
        return httpx.Response(200, content=content, headers={"content-type": kind})


def stream_of_64() -> dict[str, Any]:
    """A real 67-chunk stream cut to 64 real chunks: the first 63 and the closing one."""
    recording = load(STREAM)
    chunks = recording["response"]["body"]
    recording["response"]["body"] = chunks[:63] + chunks[-1:]
    assert len(recording["response"]["body"]) == 64
    return recording


def has_streams() -> bool:
    from apirec import streams

    return hasattr(streams, "replay_stream")


def replay(b: Bench) -> None:
    served = Served()
    client = openai.AsyncOpenAI(
        api_key="sk-bench", base_url="http://127.0.0.1:9/v1", max_retries=0,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(served.handle)),
    )  # fmt: skip
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("chat completion", load(CHAT), "chat"),
        ("embedding (1,536 floats)", load(EMBEDDING), "embeddings"),
    ]
    if has_streams():
        cases.append(("stream, 64 chunks", stream_of_64(), "chat"))
    seeds_dir = b.tmp / "seeds"
    seeds_dir.mkdir()
    seeds = SeedsRecorder(seeds_dir)
    store = b.tmp / "replay"
    number = b.n(2000)

    async def create(kind: str, body: dict[str, Any]) -> Any:
        if kind == "chat":
            return await client.chat.completions.create(**body)
        return await client.embeddings.create(**body)

    async def run() -> None:
        # record each case once through the SDK, as a user would
        for _, recording, kind in cases:
            request = recording["request"]
            served.serve(f"/v1/{'chat/completions' if kind == 'chat' else 'embeddings'}", recording)
            seeds.write("POST", request["url"], request["body"], recording["test_id"], recording)
            with apirec.test_context(recording["test_id"]):
                async with apirec.recording(store, mode="record") as rec:
                    rec.patch(CHAT_TARGET, name="openai.chat")
                    rec.patch(EMBED_TARGET, name="openai.embeddings")
                    result = await create(kind, request["body"])
                    if request["body"].get("stream"):
                        async for _ in result:
                            pass
        hits = served.hits
        for label, recording, kind in cases:
            request, test_id = recording["request"], recording["test_id"]
            body = request["body"]
            streamed = bool(body.get("stream"))
            with apirec.test_context(test_id):
                async with apirec.recording(store, mode="replay") as rec:
                    rec.patch(CHAT_TARGET, name="openai.chat")
                    rec.patch(EMBED_TARGET, name="openai.embeddings")
                    if streamed:
                        await stream_rows(b, label, number // 8, lambda: create(kind, body),
                                          lambda: seeds.replay_stream("POST", request["url"], body, test_id))  # noqa: E501  # fmt: skip
                    else:
                        t_apirec = await b.time_async(lambda: create(kind, body), number)
                        t_seeds = await b.time_async(
                            lambda: seeds.replay("POST", request["url"], body, test_id), number
                        )
                        target = 8 if kind == "chat" else 10
                        b.add(Row("c. replay hit", label, t_apirec, "seeds' recorder", t_seeds,
                                  f">= {target}x faster"), faster_by=target)  # fmt: skip
                    assert rec.stats.missed == 0 and rec.stats.replayed > 0
                # a fresh recording per call: store opened, file read and parsed every time
                if not streamed:

                    async def cold() -> Any:
                        async with apirec.recording(store, mode="replay") as r:  # noqa: B023
                            r.patch(CHAT_TARGET, name="openai.chat")
                            r.patch(EMBED_TARGET, name="openai.embeddings")
                            return await create(kind, body)  # noqa: B023

                    t_cold = await b.time_async(cold, number // 4)
                    b.add(Row("c. replay hit", f"{label}, new recording per call", t_cold,
                              "seeds' recorder", t_seeds, "(info)"), faster_by=0)  # fmt: skip
        assert served.hits == hits, "replay reached the HTTP transport"

    asyncio.run(run())
    if not has_streams():
        print("  (streams are not on this branch yet: stream rows skipped)", file=sys.stderr)


async def stream_rows(
    b: Bench,
    label: str,
    number: int,
    apirec_call: Callable[[], Awaitable[Any]],
    seeds_call: Callable[[], Awaitable[Any]],
) -> None:
    async def total(call: Callable[[], Awaitable[Any]]) -> int:
        n = 0
        async for _ in await call():
            n += 1
        assert n == 64
        return n

    async def first(call: Callable[[], Awaitable[Any]]) -> float:
        samples = []
        for _ in range(b.repeats):
            elapsed = 0
            for _ in range(number):
                start = time.perf_counter_ns()
                stream = await call()
                await stream.__anext__()
                elapsed += time.perf_counter_ns() - start
                await stream.aclose()
            samples.append(elapsed / number / 1000)
        return statistics.median(samples)

    t_apirec = await b.time_async(lambda: total(apirec_call), number)
    t_seeds = await b.time_async(lambda: total(seeds_call), number)
    b.add(Row("c. replay hit", f"{label}, all chunks", t_apirec, "seeds' recorder", t_seeds,
              ">= 3x faster"), faster_by=3)  # fmt: skip
    f_apirec, f_seeds = await first(apirec_call), await first(seeds_call)
    b.add(Row("c. replay hit", f"{label}, first chunk", f_apirec, "seeds' recorder", f_seeds,
              ">= 20x sooner"), faster_by=20)  # fmt: skip


# -- (d) opening a store -----------------------------------------------------------------------


@apirec.record(name="bench.lookup")
async def lookup(i: int) -> Any:
    raise AssertionError("replay only")


def make_store(root: Path, n: int) -> None:
    """``n`` recordings of ``lookup(i)``, each holding the fixture chat completion."""
    spec = lookup.__apirec_spec__
    body = load(CHAT)["response"]["body"]
    root.mkdir(parents=True)
    for i in range(n):
        args = spec.canonical(spec.bind(None, (i,), {}))[0]
        k = spec.key(args, None)
        entry = {
            "test_id": None,
            "request": {"function": "bench.lookup", "args": args, "key": k},
            "response": {"body": body, "is_streaming": False},
            "id_normalization_mapping": {},
        }
        (root / f"{k}.json").write_bytes(dumps(entry))


def store_open(b: Bench) -> None:
    import openai.types.chat  # noqa: F401  (the replayed type's package, as in a real test)

    sizes = (100, 1000, 3000)
    number = b.n(300)
    results: dict[str, dict[int, float]] = {"json": {}, "msgpack": {}}
    for n in sizes:
        json_dir, mp_dir = b.tmp / f"open-json-{n}", b.tmp / f"open-mp-{n}"
        make_store(json_dir, n)
        convert(json_dir, mp_dir, to="msgpack")
        for kind, path in (("json", json_dir), ("msgpack", mp_dir)):

            async def once(path: Path = path, kind: str = kind, n: int = n) -> Any:
                async with apirec.recording(path, mode="replay", store=kind):
                    return await lookup(n // 2)

            async def run(once: Callable[[], Awaitable[Any]] = once) -> float:
                return await b.time_async(once, number)

            results[kind][n] = asyncio.run(run())
    for kind in ("json", "msgpack"):
        small = results[kind][sizes[0]]
        for n in sizes[1:]:
            b.add(Row("d. open + 1 replay", f"{kind} store, {n:,} recordings", results[kind][n],
                      f"same, {sizes[0]} recordings", small, "flat (<= 1.5x)"), at_most=1.5)  # fmt: skip


# -- (e) bytes on disk -------------------------------------------------------------------------


def sizes(b: Bench) -> None:
    json_bytes = sum(p.stat().st_size for p in FIXTURES.rglob("*.json"))
    out = b.tmp / "fixtures-msgpack"
    count = convert(FIXTURES, out, to="msgpack")
    mp_bytes = sum(p.stat().st_size for p in out.iterdir())
    row = Row("e. bytes on disk", f"fixture corpus ({count} recordings), msgpack store",
              mp_bytes / 1000, "JSON store (KB)", json_bytes / 1000, "<= 10%")  # fmt: skip
    b.add(row, at_most=0.10)


# -- output ------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = ("benchmark", "apirec", "baseline", "baseline", "ratio", "target", "")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        kb = r.section.startswith("e.")
        unit = " KB" if kb else " µs"
        if kb:
            ratio = f"{r.ratio:.1%}"
        elif (
            r.target.startswith(("<=", "flat"))
            or r.target == "(info)"
            and r.ratio < 1e8
            and "undecorated" in r.baseline
        ):  # noqa: E501
            ratio = f"{r.ratio:.2f}x cost"
        else:
            ratio = f"{r.ratio:.1f}x faster"
        mark = "" if r.ok is None or r.target == "(info)" else ("✓" if r.ok else "✗")
        lines.append(
            f"| {r.section}: {r.case} | {r.apirec_us:,.1f}{unit} | {r.baseline} | "
            f"{r.baseline_us:,.1f}{unit} | {ratio} | {r.target} | {mark} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (< 1 minute)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--only", choices=["overhead", "key", "replay", "open", "sizes"],
                        action="append", help="run only these sections")  # fmt: skip
    args = parser.parse_args(argv)
    b = Bench(args.quick)
    sections = {"overhead": overhead, "key": key, "replay": replay, "open": store_open,
                "sizes": sizes}  # fmt: skip
    started = time.perf_counter()
    try:
        for name, run in sections.items():
            if not args.only or name in args.only:
                print(f"{name}...", file=sys.stderr)
                run(b)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    if args.json:
        print(json.dumps([asdict(r) for r in b.rows], indent=2))
    else:
        print(table(b.rows))
        print(f"\n{sys.version.split()[0]}, {'quick' if args.quick else 'full'} run, "
              f"{time.perf_counter() - started:.0f} s; medians of {b.repeats} repetitions")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
