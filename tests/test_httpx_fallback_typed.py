"""``integrations.patch(rec, "mistralai", "cohere", "httpx")``: a call a typed integration
intercepts is recorded once, by it; the httpx fallback skips the requests made inside it (its
stream's too), so no ``httpx.send`` duplicate is stored and later reported unused."""

from __future__ import annotations

import json

import pytest

import apirec
from apirec import integrations
from tests import test_integration_cohere as co
from tests import test_integration_mistral as mi
from tests.cohere_server import CohereServer
from tests.mistral_server import MistralServer
from tests.test_integration_cohere import client  # noqa: F401 (fixtures: closed clients)
from tests.test_integration_mistral import mistral  # noqa: F401

SDKS = ("mistralai", "cohere", "httpx")


def _functions(store_dir) -> list[str]:
    return sorted(
        json.loads(p.read_text())["request"]["function"] for p in store_dir.rglob("*.json")
    )


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_typed_calls_are_not_recorded_again_by_the_httpx_fallback(
    is_async,
    store_dir,
    monkeypatch,
    client,  # noqa: F811 (the fixtures imported above)
    mistral,  # noqa: F811
):
    cohere_fake, mistral_fake = CohereServer().start(), MistralServer().start()
    try:
        async with apirec.recording(store_dir, mode="record") as rec:
            integrations.patch(rec, *SDKS)
            c_live = await co.calls(client(cohere_fake.url, is_async, api_key="k"), is_async)
            m_live = await mi.calls(mistral(mistral_fake.url, api_key="k"), is_async)
    finally:
        cohere_fake.stop()
        mistral_fake.stop()
    recorded = _functions(store_dir)
    assert not [f for f in recorded if f.startswith("httpx.")], recorded
    assert rec.stats.recorded == len(c_live) + len(m_live) == len(recorded)

    monkeypatch.delenv("CO_API_KEY", raising=False)
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    async with apirec.recording(store_dir, mode="replay") as rec:
        integrations.patch(rec, *SDKS)
        assert await co.calls(client("http://127.0.0.1:9", is_async), is_async) == c_live
        assert await mi.calls(mistral("http://127.0.0.1:9"), is_async) == m_live
    assert rec.stats.replayed == len(recorded) and rec.stats.missed == 0
