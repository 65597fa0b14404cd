"""Review of issue 20 point 12: "the write gate scrubs credentials in the URL and body" of the
httpx fallback. The fallback keys and stores a form body as its text, so the gate's rule for
secret *names* only sees a field the query rule finds (after a ``&``): the first field of an
urlencoded body, and every field of a multipart body, reach disk. A multipart body with a
binary file is stored as base64 bytes, so the secret is there, just encoded."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import apirec
from apirec import integrations
from tests.httpx_server import WeatherServer

SECRET = "Zq8vX2mN4pL7rT1wY5kJ9hG3fD6sA0bC"  # no vendor prefix: found by its name only


@pytest.fixture
def fake():
    server = WeatherServer().start()
    yield server
    server.stop()


def _decoded(value: Any) -> bytes:
    """Every string of a stored entry, with stored bytes decoded from base64."""
    if isinstance(value, dict):
        if value.get("__type__") == "builtins.bytes" and isinstance(value.get("__data__"), str):
            return base64.b64decode(value["__data__"])
        return b"".join(_decoded(v) for v in value.values())
    if isinstance(value, list):
        return b"".join(_decoded(v) for v in value)
    return str(value).encode()


def _stored(root: Path) -> bytes:
    return b"".join(_decoded(json.loads(p.read_text())) for p in root.rglob("*.json"))


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"access_token": "<not a secret here>", "ok": True})


@pytest.mark.parametrize(
    "form",
    [
        {"client_secret": SECRET, "grant_type": "client_credentials"},  # OAuth token request
        {"api_key": SECRET},
    ],
    ids=["client_secret_first", "api_key_alone"],
)
def test_the_first_field_of_an_urlencoded_body_is_scrubbed(tmp_path: Path, form) -> None:
    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "httpx")
        with httpx.Client(transport=httpx.MockTransport(_ok)) as client:
            client.post("https://auth.example.com/oauth/token", data=form)
    # happened: "body": "client_secret=Zq8vX2mN...&grant_type=client_credentials" on disk
    # (with the field second, "grant_type=...&client_secret=<redacted>" is scrubbed)
    assert SECRET.encode() not in _stored(tmp_path)


@pytest.mark.parametrize("content", [b"plain text", b"\x89PNG\r\n\x1a\n..."], ids=["text", "png"])
def test_a_secret_field_of_a_multipart_upload_is_scrubbed(fake, tmp_path: Path, content) -> None:
    # a signed upload (Cloudinary's API shape): api_key and signature next to the file
    with apirec.recording(tmp_path, mode="record") as rec:
        integrations.patch(rec, "httpx")
        with httpx.Client(base_url=fake.url) as client:
            answer = client.post(
                "/upload",
                data={"api_key": SECRET, "timestamp": "1700000000"},
                files={"file": ("cat.png", content)},
            )
    assert answer.json() == {"name": "cat.png", "size": len(content)}
    # happened: 'name="api_key"\r\n\r\nZq8vX2mN...' stored (as text, or base64 bytes)
    assert SECRET.encode() not in _stored(tmp_path)


def test_a_form_with_a_secret_replays(tmp_path: Path) -> None:
    form = {"client_secret": SECRET, "grant_type": "client_credentials"}
    for mode in ("record", "replay"):
        with apirec.recording(tmp_path, mode=mode) as rec:
            integrations.patch(rec, "httpx")
            with httpx.Client(transport=httpx.MockTransport(_ok)) as client:
                answer = client.post("https://auth.example.com/oauth/token", data=form)
        assert answer.json()["ok"] is True, mode
    stored = _stored(tmp_path)
    assert b"grant_type" in stored and b"client_credentials" in stored  # the rest is kept
