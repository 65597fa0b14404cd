"""keys="llama-stack" for rerank: ``aiohttp.ClientSession.post`` to a ``/rerank`` URL, keyed
by URL and payload as upstream's recorder keyed it. Upstream's own recording (vLLM's rerank,
copied in ``tests/data/ogx/``) replays in place; new ones are written under upstream's names
and shapes, against a loopback fake of NVIDIA's ranking endpoint, as its provider calls it."""

from __future__ import annotations

import json
import shutil
from typing import Any

import aiohttp
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import apirec
from apirec import integrations
from apirec.integrations.llama_stack_rules import http_key
from tests.loopback import LoopbackServer
from tests.paths import OGX

VLLM = "inference/recordings/018c9d92aca980f7a9c7a7fe21006c9ecbf4f37f5911a4d5e70ffe4f472559d2.json"
RANKING = "/v1/retrieval/nvidia/reranking"


class RerankServer(LoopbackServer):
    """NVIDIA's ranking endpoint: passages ranked by words shared with the query."""

    def routes_of(self) -> list[Any]:
        return [
            Route(RANKING, self.rank, methods=["POST"]),
            Route("/v1/other", self.other, methods=["POST"]),
        ]

    async def rank(self, request: Request) -> JSONResponse:
        self.served(request.url.path)
        body = await request.json()
        if not body.get("passages"):
            return JSONResponse({"detail": "passages must not be empty"}, status_code=400)
        words = set(body["query"]["text"].lower().split())
        logits = [len(words & set(p["text"].lower().split())) for p in body["passages"]]
        order = sorted(range(len(logits)), key=lambda i: -logits[i])
        return JSONResponse({"rankings": [{"index": i, "logit": logits[i] + 0.5} for i in order]})

    async def other(self, request: Request) -> JSONResponse:
        self.served(request.url.path)
        return JSONResponse({"other": True})


async def rerank(url: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """As the stack's NVIDIA provider calls it (``async with session.post(...)``)."""
    headers = {"Authorization": "Bearer nvapi-secret", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, headers=headers, json=payload) as response,
    ):
        if response.status != 200:
            return response.status, await response.text()
        return response.status, await response.json()


async def test_upstream_rerank_recording_replays_in_place(tmp_path):
    entry = json.loads((OGX / VLLM).read_text())
    copy = tmp_path / "recordings"
    shutil.copytree((OGX / VLLM).parent, copy)
    request = entry["request"]  # http://localhost:8000/rerank: nothing listens there
    with apirec.recording(copy, mode="replay") as rec:
        integrations.patch(rec, "aiohttp", keys="llama-stack")
        with apirec.test_context(entry["test_id"]):
            status, body = await rerank(request["url"], request["payload"])
            async with aiohttp.ClientSession() as session:  # awaited, not entered
                response = await session.post(request["url"], json=request["payload"])
                response.raise_for_status()
                again = await response.json()
    assert (status, body) == (200, entry["response"]["body"]) and again == body
    assert rec.stats.replayed == 2


async def test_rerank_is_recorded_as_upstream_names_it(tmp_path):
    server = RerankServer().start()
    url = server.url + RANKING
    test_id = "tests/integration/inference/test_rerank.py::test_rerank_text[nvidia]"
    payload = {
        "model": "nvidia/nv-rerankqa-mistral-4b-v3",
        "query": {"text": "what is a llama"},
        "passages": [{"text": "a car"}, {"text": "a llama is an animal"}],
    }
    empty = {**payload, "passages": []}
    try:
        with apirec.recording(tmp_path, mode="record") as rec:
            integrations.patch(rec, "aiohttp", keys="llama-stack")
            with apirec.test_context(test_id):
                live = await rerank(url, payload)
                refused = await rerank(url, empty)
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(server.url + "/v1/other", json={}) as other,  # not rerank
                ):
                    assert await other.json() == {"other": True}
    finally:
        server.stop()
    assert live[0] == 200 and live[1]["rankings"][0]["index"] == 1
    assert refused == (400, json.dumps({"detail": "passages must not be empty"}))
    assert rec.stats.recorded == 2 and server.paths == [RANKING, RANKING, "/v1/other"]
    entry = json.loads((tmp_path / f"{http_key(url, 'POST', payload, test_id)}.json").read_text())
    assert entry["test_id"] == test_id
    assert entry["request"] == {
        "test_id": test_id,
        "url": url,
        "method": "POST",
        "payload": payload,
    }
    assert entry["response"] == {"status": 200, "body": live[1], "is_streaming": False}
    assert "nvapi-secret" not in "".join(p.read_text() for p in tmp_path.rglob("*.json"))

    with apirec.recording(tmp_path, mode="replay") as rec:  # the server is gone
        integrations.patch(rec, "aiohttp", keys="llama-stack")
        with apirec.test_context(test_id):
            assert await rerank(url, payload) == live
            assert await rerank(url, empty) == refused
            async with aiohttp.ClientSession() as session:
                response = await session.post(url, json=empty)
                with pytest.raises(aiohttp.ClientResponseError) as raised:
                    response.raise_for_status()
            assert raised.value.status == 400
            with pytest.raises(apirec.RecordingNotFound):
                await rerank(url, {**payload, "model": "another"})
    assert rec.stats.replayed == 3
