"""``apirec verify`` and ``apirec drift`` trust apirec's own types: the head an openai stream
stores first (``apirec.integrations.stainless_replies.HttpHead``) is rebuilt by replay, so it
is checked, never "not allowed to import (--trust apirec)" (issue 18 follow-up)."""

from __future__ import annotations

import json
import subprocess
import sys

import openai
import pytest

import apirec
from apirec import integrations

HEAD = "apirec.integrations.stainless_replies.HttpHead"
MESSAGES = [{"role": "user", "content": "hi"}]


def cli(*argv):
    done = subprocess.run(
        [sys.executable, "-m", "apirec", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture(params=["json", "msgpack"])
def streamed(request, tmp_path, openai_server):
    """A store holding an openai stream recorded through the real SDK."""
    store = tmp_path / "recordings"
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test", max_retries=0)
    with apirec.recording(store, mode="record", store=request.param) as rec:
        integrations.patch(rec, "openai")
        stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        said = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    client.close()
    assert said
    with apirec.recording(store, store=request.param) as rec:  # replay rebuilds the head
        integrations.patch(rec, "openai")
        client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test")
        stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream) == said
        assert stream.response.status_code == 200
    return store


def test_verify_strict_passes_on_an_openai_stream(streamed):
    code, out, err = cli("verify", "--strict", "--trust", "openai", streamed)
    assert code == 0, out + err
    assert HEAD not in out
    assert "ok: 1 recording checked, 0 problems" in out


def test_drift_checks_the_head_of_an_openai_stream(streamed):
    code, out, err = cli("drift", "--trust", "openai", "--json", streamed)
    assert code == 0, err
    (head,) = [t for t in json.loads(out)["types"] if t["type"] == HEAD]
    assert head["checked"] is True
    assert head["problems"] == []


def test_show_counts_an_openai_streams_chunks_without_its_head(streamed, tmp_path):
    # newuser 20: "stream: 4 chunks of ChatCompletionChunk, HttpHead" counted the head
    if (streamed / "recordings.apirec").exists():  # show reads JSON: a copy of the msgpack
        assert cli("convert", streamed, tmp_path / "json", "--to", "json")[0] == 0
        streamed = tmp_path / "json"
    code, out, err = cli("ls", streamed)
    assert code == 0, err
    key = next(w for w in out.split() if len(w) >= 12 and w.isalnum())
    code, out, err = cli("show", key[:8], "--dir", streamed)
    assert code == 0, err
    (line,) = [line for line in out.splitlines() if line.startswith("stream:")]
    assert "HttpHead" not in line
    assert line.endswith("of ChatCompletionChunk (after [0], the HTTP head: status and headers)")
    shown = [line for line in out.splitlines() if line.startswith("  [")]
    assert line.split()[1] == str(len(shown) - 1)  # every chunk but the head
