"""Review of issue 20 point 12: the httpx fallback keys a request by its body, but a body sent
with ``Content-Encoding: gzip`` is keyed as its compressed bytes, which hold gzip's timestamp:
the same request recorded at one second misses at the next (SDKs that compress uploads or
telemetry do exactly this)."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import httpx

import apirec
from apirec import integrations


def _gzipped_forecast(client: httpx.Client) -> int:
    body = gzip.compress(json.dumps({"city": "Paris", "days": 1}).encode())  # mtime: now
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    return client.post("/forecast", content=body, headers=headers).status_code


def test_a_gzipped_body_is_keyed_the_same_a_second_later(tmp_path: Path) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "httpx")
        with httpx.Client(
            base_url="http://127.0.0.1:9", transport=httpx.MockTransport(answer)
        ) as c:
            assert _gzipped_forecast(c) == 200
    time.sleep(1.1)
    with apirec.recording(tmp_path, mode="replay") as rec:
        integrations.patch(rec, "httpx")
        with httpx.Client(
            base_url="http://127.0.0.1:9", transport=httpx.MockTransport(answer)
        ) as c:
            # happened: RecordingNotFound (the key holds the gzip header's mtime)
            assert _gzipped_forecast(c) == 200
