"""What the write gate costs: recording with the gate against recording with it disabled, in
the same run, and the key of a call on replay with and without the gate's pre-check.

Record rows: a chat completion and a 64-chunk streamed one through the real ``openai.OpenAI``
client (its ``http_client`` answers from an ``httpx2.MockTransport``, so nothing leaves the
process) with ``apirec.integrations.patch(rec, "openai")``, into a fresh JSON store per
repetition; each call has its own prompt, so each is recorded. "without" disables the gate
for that side (the store's scrub and the key's pre-check replaced by pass-throughs); the two
sides take turns, repetition by repetition. The replay row replays those chat completions
(each the first replay of its answer) with and without the gate. Key rows:
``KeySpec.call_key`` (the gate's pre-check over the packed call, the structural scrub only
on a hit) against the canonical
arguments and ``compute_key`` alone, for a 2 KB chat request; target: well under 20 µs.

    python benchmarks/gate.py [--quick]
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import openai

import apirec
import apirec.integrations
from apirec.keys import spec as key_spec
from apirec.keys.spec import KeySpec, compute_key
from apirec.stores import gated

WORDS = [f" word{i}" for i in range(62)]
CHAT = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Paris is the capital of France."}}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
}  # fmt: skip


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    body = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o-mini", "choices": [choice]}  # fmt: skip
    return f"data: {json.dumps(body)}\n\n"


STREAM = (
    _chunk({"role": "assistant", "content": ""})
    + "".join(_chunk({"content": w}) for w in WORDS)
    + _chunk({}, "stop")
    + "data: [DONE]\n\n"
)


def handle(request: Any) -> Any:
    if json.loads(request.content).get("stream"):
        return httpx2.Response(200, content=STREAM.encode(),
                               headers={"content-type": "text/event-stream"})  # fmt: skip
    return httpx2.Response(200, json=CHAT, headers={"x-request-id": "req_1"})


CLIENT = openai.OpenAI(
    api_key="sk-bench",
    base_url="http://127.0.0.1:9/v1",
    max_retries=0,
    http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
)
SYSTEM = "You are a helpful assistant who answers in one short sentence. " * 4
QUESTION = "Tell me about the history of the Roman empire and its roads, please. " * 20


@contextmanager
def gate_disabled() -> Iterator[None]:
    scrub, check = gated.scrub_entry, key_spec.might_hold_token
    gated.scrub_entry = lambda entry, rules=None: dict(entry)  # type: ignore[assignment]
    key_spec.might_hold_token = lambda packed, start=0, end=None: False
    try:
        yield
    finally:
        gated.scrub_entry, key_spec.might_hold_token = scrub, check


def record_calls(calls: int, *, stream: bool, gate: bool) -> float:
    """µs per recorded call, into a fresh store."""
    with tempfile.TemporaryDirectory() as tmp:
        off = gate_disabled() if not gate else _nothing()
        with off, apirec.recording(Path(tmp), mode="record") as rec:
            apirec.integrations.patch(rec, "openai")
            gc.collect()
            start = time.perf_counter_ns()
            for i in range(calls):
                messages = [{"role": "system", "content": SYSTEM},
                            {"role": "user", "content": f"{i}: {QUESTION}"}]  # fmt: skip
                if stream:
                    for _ in CLIENT.chat.completions.create(
                        model="gpt-4o-mini", messages=messages, stream=True
                    ):
                        pass
                else:
                    CLIENT.chat.completions.create(model="gpt-4o-mini", messages=messages)
            return (time.perf_counter_ns() - start) / calls / 1000


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def turns(repeats: int, *sides: Callable[[], float]) -> list[float]:
    samples: list[list[float]] = [[] for _ in sides]
    for r in range(repeats):
        order = list(enumerate(sides))
        for i, side in order if r % 2 else order[::-1]:
            samples[i].append(side())
    return [statistics.median(s) for s in samples]


def replay_row(repeats: int, calls: int) -> tuple[str, float, float]:
    """A replayed chat completion through the same client, with and without the gate: all
    it costs a replay is the key's pre-check."""
    with tempfile.TemporaryDirectory() as tmp:
        record_into = Path(tmp)
        questions = [f"{i}: {QUESTION}" for i in range(calls)]

        def ask(question: str) -> None:
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
            ]
            CLIENT.chat.completions.create(model="gpt-4o-mini", messages=messages)

        with apirec.recording(record_into, mode="record") as rec:
            apirec.integrations.patch(rec, "openai")
            for question in questions:
                ask(question)

        def replay(gate: bool) -> float:
            off = gate_disabled() if not gate else _nothing()
            with off, apirec.recording(record_into, mode="replay") as rec:
                apirec.integrations.patch(rec, "openai")
                gc.collect()
                start = time.perf_counter_ns()
                for question in questions:
                    ask(question)
                return (time.perf_counter_ns() - start) / calls / 1000

        on, off = turns(repeats, lambda: replay(True), lambda: replay(False))
    return ("replay a chat completion (first replay)", on, off)


def walk_rows(repeats: int) -> list[tuple[str, float, float]]:
    """The gate's walk over a stored entry against ``json.dumps`` of it (what the JSON store
    does to it anyway): the gate's own share of a write, without the disk."""
    rows = []
    for name, stream in (("chat completion", False), ("64-chunk stream", True)):
        with tempfile.TemporaryDirectory() as tmp:
            with apirec.recording(Path(tmp), mode="record") as rec:
                apirec.integrations.patch(rec, "openai")
                messages = [{"role": "user", "content": QUESTION}]
                if stream:
                    for _ in CLIENT.chat.completions.create(
                        model="gpt-4o-mini", messages=messages, stream=True
                    ):
                        pass
                else:
                    CLIENT.chat.completions.create(model="gpt-4o-mini", messages=messages)
            (path,) = Path(tmp).glob("*.json")
            entry = json.loads(path.read_text())

        def timed(fn: Callable[[], Any], entry: Any = entry) -> Callable[[], float]:
            def run() -> float:
                start = time.perf_counter_ns()
                for _ in range(200):
                    fn()
                return (time.perf_counter_ns() - start) / 200 / 1000

            return run

        on, off = turns(
            repeats,
            timed(lambda entry=entry: gated.gated(entry)),
            timed(lambda entry=entry: json.dumps(entry, indent=2)),
        )
        rows.append((f"gate walk vs json.dumps: {name} entry", on, off))
    return rows


def key_rows(repeats: int) -> list[tuple[str, float, float]]:
    def create(*, messages: Any, model: str, temperature: float | None = None,
               max_tokens: int | None = None) -> None: ...  # fmt: skip

    spec = KeySpec(create, name="openai.chat.completions.create")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
    bound = spec.bind(None, (), {"messages": messages, "model": "gpt-4o-mini",
                                 "temperature": 0.2, "max_tokens": 200})  # fmt: skip
    scope = "tests/test_chat.py::test_roads"

    def with_gate() -> None:
        spec.call_key(bound, scope)

    def without_gate() -> None:
        for_key, _ = spec.canonical(bound)
        compute_key(spec.name, for_key, scope)

    def timed(fn: Callable[[], None]) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter_ns()
            for _ in range(2000):
                fn()
            return (time.perf_counter_ns() - start) / 2000 / 1000

        return run

    size = len(json.dumps(bound))
    on, off = turns(repeats, timed(with_gate), timed(without_gate))
    return [(f"key of a {size / 1000:.1f} KB chat request (replay path)", on, off)]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    repeats, calls = (5, 20) if quick else (15, 50)
    rows: list[tuple[str, float, float]] = []
    for name, stream in (("record a chat completion", False),
                         ("record a 64-chunk streamed chat completion", True)):  # fmt: skip
        on, off = turns(
            repeats,
            lambda s=stream: record_calls(calls, stream=s, gate=True),
            lambda s=stream: record_calls(calls, stream=s, gate=False),
        )
        rows.append((name, on, off))
    rows.append(replay_row(repeats, calls))
    rows += walk_rows(repeats)
    rows += key_rows(repeats)
    print(f"{'case':<52} {'with gate':>12} {'without':>12} {'ratio':>7}  target")
    for name, on, off in rows:
        target = "<= 1.2x" if name.startswith("record") else "~1.0x"
        target = "(info)" if name.startswith("gate walk") else target
        target = "< 20 us" if name.startswith("key") else target
        print(f"{name:<52} {on:>10.1f}us {off:>10.1f}us {on / off:>6.2f}x  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
