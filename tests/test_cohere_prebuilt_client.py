"""Review of issue 20 point 11: cohere through ``integrations.patch(rec, "cohere")``. cohere's
``Client.__init__`` (also run by ``ClientV2``) binds ``self.chat`` (and, for some versions,
``self.chat_stream``) as instance attributes wrapping the methods as they are then, so a
client built before the patch (a session fixture, a module-level client, a client made before
the test's recording opens) calls the unpatched method: nothing is recorded, and replay goes
to the network. Other integrations hook the class, so their pre-built clients are covered."""

from __future__ import annotations

import warnings
from pathlib import Path

import cohere
import httpx

import apirec
from apirec import integrations
from tests.cohere_server import CohereServer

HI = [{"role": "user", "content": "llamas eat grass"}]


def test_a_client_built_before_the_recording_records_and_replays(tmp_path: Path) -> None:
    server = CohereServer().start()
    try:
        http = httpx.Client()  # closed below: an unclosed socket warns in a later test
        client = cohere.ClientV2(base_url=server.url, api_key="sk-test", httpx_client=http)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with apirec.recording(tmp_path, mode="record") as rec:
                integrations.patch(rec, "cohere")
                live = client.chat(model="m", messages=HI)
        # happened: 0 (the call went to the server unrecorded, NothingRecordedWarning)
        assert rec.stats.recorded == 1
        served = server.requests
        with apirec.recording(tmp_path, mode="replay") as rec:
            integrations.patch(rec, "cohere")
            assert client.chat(model="m", messages=HI) == live
        assert server.requests == served  # replay reached nothing
    finally:
        http.close()
        server.stop()
