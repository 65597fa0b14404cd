"""``apirec demo``: record two slow calls, then replay them offline, and show what happened."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

import apirec
from apirec.errors import command


class SearchHit(BaseModel):
    title: str
    url: str
    score: float


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class ChatReply(BaseModel):
    model: str
    content: str
    usage: Usage


class Network:
    """Stands for the outside world; the replay phase switches it off."""

    online = True

    @classmethod
    def reach(cls, what: str) -> None:
        if not cls.online:
            raise ConnectionError(f"the demo is offline: {what} was called for real")


class WebSearch:
    """A fake web search tool: slow, and it wants an API key."""

    @apirec.record(name="demo.web_search", ignore=["api_key"])
    async def search(
        self, query: str, *, max_results: int = 3, api_key: str = ""
    ) -> list[SearchHit]:
        Network.reach("web search")
        await asyncio.sleep(0.4)
        return [
            SearchHit(title=f"{query} #{i}", url=f"https://example.org/{i}", score=1 / (i + 1))
            for i in range(max_results)
        ]


class FakeLLM:
    """A fake chat model: slower, and never quite the same twice when live."""

    @apirec.record(name="demo.chat")
    async def chat(
        self, messages: list[dict[str, str]], model: str = "demo-1", temperature: float = 0.7
    ) -> ChatReply:
        Network.reach("chat model")
        await asyncio.sleep(0.6)
        text = " ".join(m["content"] for m in messages)
        return ChatReply(
            model=model,
            content=f"Summary of {len(text)} characters at {time.time():.3f}",
            usage=Usage(prompt_tokens=len(text.split()), completion_tokens=7),
        )


async def _agent() -> tuple[list[SearchHit], ChatReply, float, float]:
    """A tiny tool-using agent: search, then summarise the hits with the model."""
    start = time.perf_counter()
    hits = await WebSearch().search("llamas", api_key="sk-demo-secret")
    middle = time.perf_counter()
    reply = await FakeLLM().chat([{"role": "user", "content": h.title} for h in hits])
    return hits, reply, middle - start, time.perf_counter() - middle


def run(directory: Path | None = None, out: Callable[[str], None] = print) -> int:
    """Run the demo; returns a process exit code.

    With ``directory`` (``apirec demo --keep DIR``) the recordings are written there and kept,
    so they can be looked at with the CLI; without it they live in a temporary directory.
    """
    with tempfile.TemporaryDirectory(prefix="apirec-demo-") as tmp:
        store = directory or Path(tmp)
        if directory is None:
            out(
                f"apirec demo: recordings in {store}, a temporary directory deleted on exit "
                "(apirec demo --keep DIR keeps them to look at with the CLI)"
            )
        else:
            out(f"apirec demo: recordings in {store}")
        phases: dict[str, list[tuple[str, str, float]]] = {}
        results: dict[str, tuple[list[SearchHit], ChatReply]] = {}
        for mode in ("record", "replay"):
            Network.online = mode == "record"
            with apirec.recording(store, mode=mode) as rec, apirec.test_context("demo"):
                hits, reply, t_search, t_chat = asyncio.run(_agent())
            results[mode] = (hits, reply)
            phases[mode] = [
                (function, key, took)
                for (_, function, key), took in zip(rec.journal, (t_search, t_chat), strict=True)
            ]
        out("")
        out(f"{'call':<18} {'key':<34} {'live':>9} {'replayed':>9} {'faster':>8}")
        for (name, key, live), (*_, replayed) in zip(
            phases["record"], phases["replay"], strict=True
        ):
            speedup = live / replayed
            times = f"{live * 1e3:>7.1f}ms {replayed * 1e3:>7.2f}ms {speedup:>7.0f}x"
            out(f"{name:<18} {key:<34} {times}")
        same = results["record"] == results["replay"]
        out("")
        out(f"replayed objects equal the recorded ones: {same}")
        hits, reply = results["replay"]
        out(f"replayed types: list[{type(hits[0]).__name__}], {type(reply).__name__}")
        files = sorted(p.name for p in store.glob("*.json"))
        secret_stored = any("sk-demo-secret" in (store / f).read_text() for f in files)
        out(f"files written: {len(files)}; API key stored anywhere: {secret_stored}")
        out("replay ran with the network switched off: no call went out.")
        if directory is not None:
            out("")
            out(f"recordings kept in {directory}; look at them with:")
            out("  " + command("apirec", "ls", Path(directory)))
            key = phases["replay"][0][1]
            out("  " + command("apirec", "show", key, f"--dir={directory}"))
        Network.online = True
        return 0 if same and not secret_stored else 1
