"""apirec's speed, as ratios against baselines measured in the same run (DESIGN §8).

    python benchmarks/run.py            # full run, a few minutes
    python benchmarks/run.py --quick    # fewer repetitions, noisier (~3 min on a busy 2-core box)
    python benchmarks/run.py --json     # machine-readable rows

Every figure is the median per call over many repetitions, the two sides of a row taking
turns. Replays go through the public API on the real openai SDK: ``rec.patch`` on
``AsyncCompletions.create`` / ``AsyncEmbeddings.create`` of an ``AsyncOpenAI`` client whose
HTTP transport serves the fixture recordings while recording (replay never reaches it). The
baseline is ``seeds_recorder.py``, fed the same fixture recordings.
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

from against_vcrpy import replay_times
from seeds_recorder import SeedsRecorder, request_hash

import apirec
from apirec.stores.convert import convert
from apirec.stores.json_store import dumps

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "data" / "llama_stack"
SAMPLE = FIXTURES / "sample"
CHAT = (
    SAMPLE
    / "inference/recordings/00bbacbcc8180b2151778cdac99b204e347526bc5509d4972f5fdb4d4bed2434.json"
)
EMBEDDING = (
    SAMPLE
    / "responses/recordings/050f63320eeea2dc946617884f63e55d84fd718af642afa609c36154deb34dce.json"
)
SHORT_CHAT = (  # a short answer ("safe"), no tools: apirec's fixed cost per call dominates
    SAMPLE
    / "agents/recordings/0be803de6641bd7638bcb91bbd1b40d3a360e5c5403386055d5c93a9303860b3.json"
)
STREAM = (
    SAMPLE
    / "agents/recordings/0a45299f33e179ae4e1058fcb9a6526cea3d5c4f47ee30660a453e114cbf0b85.json"
)
KEY_REQUESTS = [  # a seed's request (3.1 KB, with tools) and a 2 KB one from the sample
    FIXTURES / "seeds/753402bc96db80de2495897f31d92129aa492b1abca935feaa2a773434574d65.json",
    SAMPLE
    / "responses/recordings/0b4cde2f51981de925cb14c1c64de5b8e55978745bc4964cdf932baed4a730c9.json",
]
CHAT_TARGET = "openai.resources.chat.completions.AsyncCompletions.create"
EMBED_TARGET = "openai.resources.embeddings.AsyncEmbeddings.create"


@dataclass
class Row:
    section: str
    case: str
    apirec_value: float  # in ``unit``: µs per call, or KB on disk (section e)
    baseline: str
    baseline_value: float
    target: str
    ratio: float = 0.0  # times faster than the baseline, or for costs, apirec / baseline
    ok: bool | None = None
    absolute: bool = False  # the target is a bound on apirec's own figure, not the ratio

    @property
    def unit(self) -> str:
        return "KB" if self.section.startswith("e.") else "µs"

    @property
    def is_cost(self) -> bool:
        return self.target.startswith(("<=", "flat"))

    def as_json(self) -> dict[str, Any]:
        """The row for ``--json``: the figures under ``apirec_us`` / ``baseline_us`` as before,
        or ``apirec_kb`` / ``baseline_kb`` for the sizes of section e; ``unit`` says which."""
        row = asdict(self)
        suffix = "kb" if self.unit == "KB" else "us"
        row[f"apirec_{suffix}"] = row.pop("apirec_value")
        row[f"baseline_{suffix}"] = row.pop("baseline_value")
        row["unit"] = self.unit
        return row


class Bench:
    def __init__(self, quick: bool, cpu: bool = False) -> None:
        self.quick = quick
        # --cpu: the CPU time this process used, not the wall clock: on a shared machine a
        # side that was made to wait for a core is not charged for it (all rows but (d) and
        # (e) run in memory, single-threaded)
        self.clock = time.process_time_ns if cpu else time.perf_counter_ns
        self.repeats = 7 if quick else 21
        self.rows: list[Row] = []
        self.tmp = Path(tempfile.mkdtemp(prefix="apirec-bench-"))

    def n(self, full: int) -> int:
        return max(5, full // 5) if self.quick else full

    # -- timing -------------------------------------------------------------------------

    def time_sync(self, *fns: Callable[[], Any], number: int) -> list[float]:
        """Median µs per call of each function; the functions take turns, repeat by repeat,
        so that a noisy neighbour slows both sides alike."""
        samples: list[list[float]] = [[] for _ in fns]
        for r in range(self.repeats):
            order = list(enumerate(fns))
            for i, fn in order if r % 2 else order[::-1]:
                gc.collect()
                start = self.clock()
                for _ in range(number):
                    fn()
                samples[i].append((self.clock() - start) / number / 1000)
        return [statistics.median(s) for s in samples]

    async def time_async(self, *fns: Callable[[], Awaitable[Any]], number: int) -> list[float]:
        """:meth:`time_sync` for coroutines, all in the running event loop."""
        samples: list[list[float]] = [[] for _ in fns]
        for r in range(self.repeats):
            order = list(enumerate(fns))
            for i, fn in order if r % 2 else order[::-1]:
                gc.collect()
                start = self.clock()
                for _ in range(number):
                    await fn()
                samples[i].append((self.clock() - start) / number / 1000)
        return [statistics.median(s) for s in samples]

    def add(
        self,
        row: Row,
        *,
        faster_by: float | None = None,
        at_most: float | None = None,
        under_us: float | None = None,
    ) -> None:
        """Record a row; the keyword says how its target is checked (none: for information)."""
        if faster_by is not None or under_us is not None:
            row.ratio = row.baseline_value / row.apirec_value
        else:
            row.ratio = row.apirec_value / row.baseline_value
        if faster_by is not None:
            row.ok = row.ratio >= faster_by
        elif at_most is not None:
            row.ok = row.ratio <= at_most
        elif under_us is not None:
            row.ok = row.apirec_value < under_us
            row.absolute = True
        self.rows.append(row)
        unit = "us" if row.unit == "µs" else row.unit
        print(f"  {row.section} {row.case}: {row.apirec_value:.2f} {unit} vs "
              f"{row.baseline_value:.2f} {unit}", file=sys.stderr)  # fmt: skip


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_bytes())


# -- (a) the wrapper's own cost ----------------------------------------------------------------


def plain(x: int) -> int:
    return x


async def aplain(x: int) -> int:
    return x


def passthrough(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return wrapped(*args, **kwargs)


def overhead(b: Bench) -> None:
    bare, rec = wrapt.FunctionWrapper(plain, passthrough), apirec.record(plain)
    abare, arec = wrapt.FunctionWrapper(aplain, passthrough), apirec.record(aplain)
    number = b.n(100_000)
    sec, wrapt_bare, target = "a. decorated call", "wrapt pass-through", "<= 1.5x"

    t_plain, t_bare, t_rec = b.time_sync(
        lambda: plain(1), lambda: bare(1), lambda: rec(1), number=number
    )
    with apirec.recording(b.tmp / "live", mode="live"):
        t_bare_live, t_live = b.time_sync(lambda: bare(1), lambda: rec(1), number=number)
    b.add(Row(sec, "sync, no recording active", t_rec, wrapt_bare, t_bare, target), at_most=1.5)
    b.add(Row(sec, "sync, live mode", t_live, wrapt_bare, t_bare_live, target), at_most=1.5)
    b.add(Row(sec, "sync, no recording active", t_rec, "undecorated", t_plain, "(info)"))

    async def run() -> tuple[float, ...]:
        t_plain, t_bare, t_rec = await b.time_async(
            lambda: aplain(1), lambda: abare(1), lambda: arec(1), number=number
        )
        with apirec.recording(b.tmp / "live", mode="live"):
            t_bare_live, t_live = await b.time_async(
                lambda: abare(1), lambda: arec(1), number=number
            )
        return t_plain, t_bare, t_rec, t_bare_live, t_live

    t_plain, t_bare, t_rec, t_bare_live, t_live = asyncio.run(run())
    b.add(Row(sec, "async, no recording active", t_rec, wrapt_bare, t_bare, target), at_most=1.5)
    b.add(Row(sec, "async, live mode", t_live, wrapt_bare, t_bare_live, target), at_most=1.5)
    b.add(Row(sec, "async, no recording active", t_rec, "undecorated", t_plain, "(info)"))


# -- (b) the key of a chat request -------------------------------------------------------------


def key(b: Bench) -> None:
    from openai.resources.chat.completions import AsyncCompletions

    with apirec.patch(CHAT_TARGET, name="openai.chat"):
        spec = AsyncCompletions.create.__apirec_spec__
    client_self = object()
    for path in KEY_REQUESTS:
        recording = load(path)
        request, test_id = recording["request"], recording["test_id"]
        body = request["body"]

        def apirec_key(body: dict[str, Any] = body, test_id: str = test_id) -> str:
            bound = spec.bind(client_self, (), body)
            return spec.key(spec.canonical(bound)[0], test_id)

        def seeds_key(
            body: dict[str, Any] = body, request: dict[str, Any] = request, test_id: str = test_id
        ) -> str:
            return request_hash("POST", request["url"], body, test_id)

        def gated_key(body: dict[str, Any] = body, test_id: str = test_id) -> str:
            # as every call computes it: through the write gate (its pre-check for tokens)
            return spec.call_key(spec.bind(client_self, (), body), test_id)[1]

        assert gated_key() == apirec_key()  # no token in these requests: the same key
        t_apirec, t_gated, t_seeds = b.time_sync(apirec_key, gated_key, seeds_key, number=b.n(5000))
        where = "a seed's" if "seeds" in path.parts else "from the sample"
        case = f"chat request, {len(json.dumps(body)) / 1000:.1f} KB ({where})"
        seeds = "seeds: regex, sorted JSON, SHA-256"
        b.add(Row("b. key", case, t_apirec, seeds, t_seeds, "< 20 µs"), under_us=20)
        b.add(Row("b. key", f"{case}, through the write gate", t_gated, seeds, t_seeds,
                  "< 20 µs"), under_us=20)  # fmt: skip


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
    return recording


def has_streams() -> bool:
    from apirec.streams import replay as replay_streams

    return hasattr(replay_streams, "replay_stream")


@dataclass
class Case:
    label: str
    recording: dict[str, Any]
    kind: str  # "chat" or "embeddings"

    @property
    def body(self) -> dict[str, Any]:
        return self.recording["request"]["body"]  # type: ignore[no-any-return]

    @property
    def test_id(self) -> str | None:
        return self.recording["test_id"]  # type: ignore[no-any-return]

    @property
    def url(self) -> str:
        return self.recording["request"]["url"]  # type: ignore[no-any-return]


class Replays:
    """Both sides of section (c): apirec through the openai SDK, and the seeds' recorder."""

    def __init__(self, b: Bench) -> None:
        self.b = b
        self.served = Served()
        transport = httpx.MockTransport(self.served.handle)
        self.client = openai.AsyncOpenAI(
            api_key="sk-bench",
            base_url="http://127.0.0.1:9/v1",
            max_retries=0,
            http_client=httpx.AsyncClient(transport=transport),
        )
        self.store = b.tmp / "replay"
        (b.tmp / "seeds").mkdir(exist_ok=True)  # --only replay --only streams: two of us
        self.seeds = SeedsRecorder(b.tmp / "seeds")

    async def create(self, case: Case) -> Any:
        if case.kind == "chat":
            return await self.client.chat.completions.create(**case.body)
        return await self.client.embeddings.create(**case.body)

    async def apirec_call(self, case: Case, mode: str = "replay") -> Any:
        async with apirec.recording(self.store, mode=mode) as rec:
            rec.patch(CHAT_TARGET, name="openai.chat")
            rec.patch(EMBED_TARGET, name="openai.embeddings")
            return await self.create(case)

    async def record(self, case: Case) -> None:
        self.served.serve(f"/v1/{'chat/completions' if case.kind == 'chat' else 'embeddings'}",
                          case.recording)  # fmt: skip
        self.seeds.write("POST", case.url, case.body, case.test_id, case.recording)
        with apirec.test_context(case.test_id or "bench"):
            result = await self.apirec_call(case, mode="record")
            if case.body.get("stream"):
                async for _ in result:
                    pass

    async def seeds_call(self, case: Case) -> Any:
        if case.body.get("stream"):
            return await self.seeds.replay_stream("POST", case.url, case.body, case.test_id)
        return await self.seeds.replay("POST", case.url, case.body, case.test_id)

    async def object_rows(self, case: Case, number: int) -> None:
        b, target = self.b, 8 if case.kind == "chat" else 10
        with apirec.test_context(case.test_id or "bench"):
            # one call replayed again and again: the last answer each time
            async with apirec.recording(self.store, mode="replay", repeats="last") as rec:
                rec.patch(CHAT_TARGET, name="openai.chat")
                rec.patch(EMBED_TARGET, name="openai.embeddings")
                warm, seeds = await b.time_async(
                    lambda: self.create(case), lambda: self.seeds_call(case), number=number
                )
                assert rec.stats.missed == 0 and rec.stats.replayed > 0
            cold, seeds_too = await b.time_async(
                lambda: self.apirec_call(case), lambda: self.seeds_call(case), number=number // 4
            )
        sec = "c. replay hit"
        b.add(Row(sec, case.label, warm, "seeds' recorder", seeds, f">= {target}x faster"),
              faster_by=target)  # fmt: skip
        b.add(Row(sec, f"{case.label}, a new recording per call", cold, "seeds' recorder",
                  seeds_too, "(info)"), faster_by=0)  # fmt: skip

    async def ledger_row(self, case: Case, number: int) -> None:
        """The ledger (issue 21) must not slow replay: the same answer replayed from a store
        whose files carry it against one whose files do not (recorded before it)."""
        b, bare = self.b, self.b.tmp / "replay-without-ledger"
        shutil.copytree(self.store, bare, dirs_exist_ok=True)
        for path in bare.glob("*.json"):
            entry = json.loads(path.read_text())
            assert "ledger" in entry, "recorded without a ledger: nothing to compare"
            del entry["ledger"]
            path.write_text(json.dumps(entry, indent=2) + "\n")

        async def block(where: Path) -> float:
            """µs per replay of ``number`` calls in one recording of ``where``."""
            async with apirec.recording(where, mode="replay", repeats="last") as rec:
                rec.patch(CHAT_TARGET, name="openai.chat")
                await self.create(case)  # the first replay decodes plainly: not timed
                start = b.clock()
                for _ in range(number):
                    await self.create(case)
                took = (b.clock() - start) / number / 1000
                assert rec.stats.missed == 0
            return took

        new: list[float] = []
        old: list[float] = []
        with apirec.test_context(case.test_id or "bench"):
            for turn in range(b.repeats):  # the two sides take turns
                for side, where in ((new, self.store), (old, bare))[:: 1 if turn % 2 else -1]:
                    side.append(await block(where))
        b.add(Row("c. replay hit", f"{case.label}, its recording with a ledger",
                  statistics.median(new), "the same, recorded before the ledger",
                  statistics.median(old), "<= 1.05x the cost"),
              at_most=1.05)  # fmt: skip

    async def stream_rows(self, case: Case, number: int) -> None:
        b = self.b

        async def drain(stream: Any) -> int:
            n = 0
            async for _ in stream:
                n += 1
            return n

        first_ns = {"apirec": 0, "seeds": 0}

        async def first(side: str, call: Callable[[], Awaitable[Any]]) -> None:
            """Time to the first chunk only; the stream is then closed, untimed."""
            start = b.clock()
            stream = await call()
            await stream.__anext__()
            first_ns[side] += b.clock() - start
            await stream.aclose()

        with apirec.test_context(case.test_id or "bench"):
            # one call replayed again and again: the last answer each time
            async with apirec.recording(self.store, mode="replay", repeats="last") as rec:
                rec.patch(CHAT_TARGET, name="openai.chat")
                for stream in (await self.create(case), await self.seeds_call(case)):
                    assert await drain(stream) == 64
                total, seeds_total, floor, async_floor = await b.time_async(
                    lambda: drain_after(self.create(case)),
                    lambda: drain_after(self.seeds_call(case)),
                    building(case),
                    building_async(case),
                    number=number,
                )
                samples: dict[str, list[float]] = {"apirec": [], "seeds": []}
                for _ in range(b.repeats):  # both sides in turn; the median of the means
                    first_ns.update(apirec=0, seeds=0)
                    for _ in range(number):
                        await first("apirec", lambda: self.create(case))
                        await first("seeds", lambda: self.seeds_call(case))
                    for side, ns in first_ns.items():
                        samples[side].append(ns / number / 1000)
                head, seeds_head = (statistics.median(samples[k]) for k in ("apirec", "seeds"))
                assert rec.stats.missed == 0
        sec = "c. replay hit"
        b.add(Row(sec, f"{case.label}, all chunks", total, "seeds' recorder", seeds_total,
                  ">= 3x faster"), faster_by=3)  # fmt: skip
        # The most the row above can reach: the seeds' path against building the chunks alone
        # (no key, no lookup, no stream), which a replay that hands out fresh chunks must pay.
        b.add(Row(sec, f"{case.label}, all chunks, the ceiling: only building them", floor,
                  "seeds' recorder", seeds_total, "(info)"), faster_by=0)  # fmt: skip
        # ...and handing them out through the simplest async iterator, as an async replay
        # must (``async for``): the most any async replay of fresh chunks can reach.
        b.add(Row(sec, f"{case.label}, all chunks, the ceiling of an async stream", async_floor,
                  "seeds' recorder", seeds_total, "(info)"), faster_by=0)  # fmt: skip
        b.add(Row(sec, f"{case.label}, first chunk", head, "seeds' recorder", seeds_head,
                  ">= 20x sooner"), faster_by=20)  # fmt: skip

        async def cold() -> int:
            # one call replayed again and again: the last answer each time
            async with apirec.recording(self.store, mode="replay", repeats="last") as rec:
                rec.patch(CHAT_TARGET, name="openai.chat")
                rec.patch(EMBED_TARGET, name="openai.embeddings")
                return await drain_after(self.create(case))

        with apirec.test_context(case.test_id or "bench"):
            t_cold, seeds_too = await b.time_async(
                cold, lambda: drain_after(self.seeds_call(case)), number=number // 4
            )
        b.add(Row(sec, f"{case.label}, all chunks, a new recording per call", t_cold,
                  "seeds' recorder", seeds_too, "(info)"), faster_by=0)  # fmt: skip

    async def floor_row(self, case: Case, number: int) -> None:
        """The whole stream replayed against merely building its chunks: validating the same
        stored chunk payloads into ``ChatCompletionChunk`` objects, nothing else."""
        b, chunks = self.b, case.recording["response"]["body"]
        build = building(case)

        with apirec.test_context(case.test_id or "bench"):
            # one call replayed again and again: the last answer each time
            async with apirec.recording(self.store, mode="replay", repeats="last") as rec:
                rec.patch(CHAT_TARGET, name="openai.chat")
                assert await drain_after(self.create(case)) == len(chunks) == await build()
                total, floor = await b.time_async(
                    lambda: drain_after(self.create(case)), build, number=number
                )
                assert rec.stats.missed == 0
        b.add(Row("c. replay hit", f"{case.label}, all chunks", total,
                  "building its chunks (validate_python)", floor, "<= 1.25x the cost"),
              at_most=1.25)  # fmt: skip


def _chunks_to_build(case: Case) -> tuple[Callable[[Any], Any], list[Any]]:
    """The validator of ``ChatCompletionChunk`` and the stored payloads of ``case``'s chunks."""
    from openai.types.chat import ChatCompletionChunk

    validate = ChatCompletionChunk.__pydantic_validator__.validate_python
    return validate, [chunk["__data__"] for chunk in case.recording["response"]["body"]]


def building(case: Case) -> Callable[[], Awaitable[int]]:
    """Merely building a stream's chunks: validating its stored chunk payloads into
    ``ChatCompletionChunk`` objects, as every replay that hands out fresh chunks must."""
    validate, payloads = _chunks_to_build(case)

    async def build() -> int:
        return len([validate(payload) for payload in payloads])

    return build


class _Building:
    """The simplest async iterator that builds each chunk as it is asked for."""

    __slots__ = ("_payloads", "_position", "_validate")

    def __init__(self, payloads: list[Any], validate: Callable[[Any], Any]) -> None:
        self._payloads, self._validate, self._position = payloads, validate, 0

    def __aiter__(self) -> _Building:
        return self

    async def __anext__(self) -> Any:
        position = self._position
        if position < len(self._payloads):
            self._position = position + 1
            return self._validate(self._payloads[position])
        raise StopAsyncIteration


def building_async(case: Case) -> Callable[[], Awaitable[int]]:
    """:func:`building`, each chunk handed out by ``async for`` over :class:`_Building`: no
    key, no lookup, no recorder; what an async replay of fresh chunks cannot do without."""
    validate, payloads = _chunks_to_build(case)

    async def build() -> int:
        n = 0
        async for _ in _Building(payloads, validate):
            n += 1
        return n

    return build


def stream_of_67() -> dict[str, Any]:
    """The real 67-chunk stream, asked with its own request (``user``), apart from the
    64-chunk one."""
    recording = load(STREAM)
    recording["request"]["body"] = {**recording["request"]["body"], "user": "whole stream"}
    return recording


async def drain_after(call: Awaitable[Any]) -> int:
    n = 0
    async for _ in await call:
        n += 1
    return n


def replay(b: Bench, *, objects: bool = True, streams: bool = False) -> None:
    r = Replays(b)
    cases = []
    if objects:
        cases = [Case("chat completion", load(CHAT), "chat"),
                 Case("chat completion, a short answer", load(SHORT_CHAT), "chat"),
                 Case("embedding, 1,536 floats", load(EMBEDDING), "embeddings")]  # fmt: skip
    streamed = []
    if streams and has_streams():
        streamed = [Case("stream, 64 chunks", stream_of_64(), "chat"),
                    Case("stream, 67 chunks", stream_of_67(), "chat")]  # fmt: skip

    async def run() -> None:
        for case in [*cases, *streamed]:
            await r.record(case)
        hits = r.served.hits
        for case in cases:
            await r.object_rows(case, b.n(2000))
        if cases:
            await r.ledger_row(cases[0], b.n(2000))
        if streamed:
            await r.stream_rows(streamed[0], b.n(400))
            await r.floor_row(streamed[1], b.n(400))
        assert r.served.hits == hits, "replay reached the HTTP transport"

    asyncio.run(run())
    if streams and not streamed:
        print("  (no stream support on this branch: stream rows skipped)", file=sys.stderr)


def replay_streams(b: Bench) -> None:
    replay(b, objects=False, streams=True)


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
    paths: dict[tuple[str, int], Path] = {}
    for n in sizes:
        paths["json", n], paths["msgpack", n] = b.tmp / f"json-{n}", b.tmp / f"msgpack-{n}"
        make_store(paths["json", n], n)
        convert(paths["json", n], paths["msgpack", n], to="msgpack")

    def once(kind: str, n: int) -> Callable[[], Awaitable[Any]]:
        async def open_and_replay() -> Any:
            async with apirec.recording(paths[kind, n], mode="replay", store=kind, repeats="last"):
                return await lookup(n // 2)

        return open_and_replay

    async def run() -> dict[tuple[str, int], float]:
        keys = list(paths)
        times = await b.time_async(*(once(*k) for k in keys), number=b.n(300))
        return dict(zip(keys, times, strict=True))

    results = asyncio.run(run())
    for kind in ("json", "msgpack"):
        small = results[kind, sizes[0]]
        for n in sizes[1:]:
            case = f"{kind} store, {n:,} recordings"
            row = Row("d. open + 1 replay", case, results[kind, n],
                      f"same, {sizes[0]} recordings", small, "flat (<= 1.5x)")  # fmt: skip
            b.add(row, at_most=1.5)


# -- (e) bytes on disk -------------------------------------------------------------------------


def sizes(b: Bench) -> None:
    json_bytes = sum(p.stat().st_size for p in FIXTURES.rglob("*.json"))
    out = b.tmp / "fixtures-msgpack"
    count = convert(FIXTURES, out, to="msgpack")
    mp_bytes = sum(p.stat().st_size for p in out.iterdir())
    case = f"fixture corpus, {count} recordings: msgpack store"
    row = Row("e. bytes on disk", case, mp_bytes / 1000, "JSON store", json_bytes / 1000, "<= 10%")
    b.add(row, at_most=0.10)


# -- (f) against vcrpy --------------------------------------------------------------------------


def versus_vcrpy(b: Bench) -> None:
    for label, path in (("chat completion", CHAT), ("chat completion, a short answer", SHORT_CHAT)):
        apirec_us, vcrpy_us = replay_times(
            b.tmp / label, load(path), b.repeats, b.n(1000), clock=b.clock
        )
        row = Row("f. openai client replay", label, apirec_us, "vcrpy cassette", vcrpy_us,
                  ">= 30x faster")  # fmt: skip
        b.add(row, faster_by=30)


# -- output ------------------------------------------------------------------------------------


def ratio_cell(r: Row) -> str:
    """The ratio as a reader says it: a share, the cost, or how many times faster, or slower
    when apirec is the slower side (0.6x faster is 1.7x slower)."""
    if r.section.startswith("e."):
        return f"{r.ratio:.1%}"
    if r.is_cost or "undecorated" in r.baseline:
        return f"{r.ratio:.2f}x the cost"
    if r.ratio < 1:
        return f"{1 / r.ratio:.1f}x slower"
    return f"{r.ratio:.1f}x faster"


def table(rows: list[Row]) -> str:
    head = ("benchmark", "apirec", "baseline", "baseline", "ratio", "target", "verdict")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        mark = "" if r.ok is None or r.target == "(info)" else ("yes" if r.ok else "NO")
        # an absolute target judges apirec's own figure, whatever the ratio says
        target = f"{r.target} (absolute)" if r.absolute else r.target
        lines.append(
            f"| {r.section}: {r.case} | {r.apirec_value:,.1f} {r.unit} | {r.baseline} | "
            f"{r.baseline_value:,.1f} {r.unit} | {ratio_cell(r)} | {target} | {mark} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, noisier")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--cpu", action="store_true",
                        help="time this process's CPU time, not the wall clock")  # fmt: skip
    sections = {"overhead": overhead, "key": key, "replay": replay, "streams": replay_streams,
                "open": store_open, "sizes": sizes, "vcrpy": versus_vcrpy}  # fmt: skip
    parser.add_argument("--only", choices=list(sections), action="append",
                        help="run only these sections")  # fmt: skip
    args = parser.parse_args(argv)
    b = Bench(args.quick, cpu=args.cpu)
    started = time.perf_counter()
    try:
        for name, run in sections.items():
            if not args.only or name in args.only:
                print(f"{name}...", file=sys.stderr)
                run(b)
    finally:
        shutil.rmtree(b.tmp, ignore_errors=True)
    if args.json:
        print(json.dumps([r.as_json() for r in b.rows], indent=2))
        return 0
    print(table(b.rows))
    elapsed = time.perf_counter() - started
    run = f"{'quick' if args.quick else 'full'} run ({'CPU time' if args.cpu else 'wall clock'})"
    print(f"\nPython {sys.version.split()[0]}, {run} in {elapsed:.0f} s; "
          f"medians of {b.repeats} repetitions.")  # fmt: skip
    print("verdict: the row's target met (yes) or not (NO); a ratio target judges the ratio, an "
          "(absolute) one apirec's own figure, whatever the ratio.")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
