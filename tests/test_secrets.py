"""Secrets passed to a recorded call never reach the store, through the public API.

Each test records real calls carrying credentials in the places they travel (an ``api_key``
argument, an ``Authorization`` header in ``extra_headers``, a ``password`` inside a dict, a
model or a dataclass, ``**kwargs``), then searches every byte under the store directory.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

import apirec

SECRETS = {
    "api_key": "sk-live-51H8secretAPIKEYvalue",
    "bearer": "Bearer eyJhbGciOiJIUzI1NiJ9.secretJWTpayload",
    "password": "hunter2-correct-horse-battery",
    "x_api_key": "xak-9f8e7d6c5b4a-secret",
    "cookie": "session=c00kiesecretvalue",
    "model_token": "tok-model-field-secret",
    "dc_secret": "dataclass-client-secret-value",
    "kwargs_key": "sk-kwargs-secret-value-0001",
    "custom": "custom-rule-secret-session-id",
    "custom_header": "custom-internal-header-secret",
    "pair": "Bearer header-pair-secret-0042",
    "httpx": "Bearer httpx-headers-secret-0043",
}


class Connection(BaseModel):
    host: str
    token: str


@dataclasses.dataclass
class OAuthClient:
    client_id: str
    client_secret: str


@apirec.record(name="secrets.chat")
def chat(
    messages: list[dict[str, str]],
    *,
    model: str = "gpt",
    api_key: str | None = None,
    extra_headers: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"reply": f"{len(messages)} messages", "model": model}


@apirec.record(name="secrets.search")
def search(query: str, api_key: str) -> list[str]:
    return [query.upper()]


@apirec.record(name="secrets.connect")
def connect(connection: Connection, client: OAuthClient) -> str:
    return f"connected to {connection.host} as {client.client_id}"


@apirec.record(name="secrets.call")
def call(endpoint: str, **options: Any) -> str:
    return endpoint


@apirec.record(name="secrets.fetch")
def fetch(url: str, headers: Any) -> int:
    return 200


@apirec.record(name="secrets.session", redact=["session_id", "extra_headers.X-Internal-Auth"])
def session(query: str, session_id: str, api_key: str, extra_headers: dict[str, str]) -> str:
    return query


MESSAGES = [{"role": "user", "content": "hello"}]


def make_calls(secrets: dict[str, str]) -> list[Any]:
    return [
        chat(MESSAGES, api_key=secrets["api_key"]),
        chat(MESSAGES, extra_headers={"Authorization": secrets["bearer"], "X-Trace": "t-1"}),
        chat(MESSAGES, config={"db": {"user": "app", "password": secrets["password"]}}),
        chat(
            MESSAGES,
            extra_headers={"x-api-key": secrets["x_api_key"], "COOKIE": secrets["cookie"]},
        ),
        search("llamas", secrets["api_key"]),  # positional: bound to its parameter name
        connect(
            Connection(host="db.local", token=secrets["model_token"]),
            OAuthClient(client_id="app", client_secret=secrets["dc_secret"]),
        ),
        call("/v1/models", api_key=secrets["kwargs_key"], timeout=3),
        fetch("https://api.local/v1", [("Authorization", secrets["pair"]), ("Accept", "json")]),
        fetch("https://api.local/v2", httpx.Headers({"authorization": secrets["httpx"]})),
        session(
            "q",
            session_id=secrets["custom"],
            api_key=secrets["api_key"],
            extra_headers={"X-Internal-Auth": secrets["custom_header"], "Accept": "json"},
        ),
    ]


def store_bytes(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_secret_values_appear_nowhere_in_the_store(tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="record") as rec:
        answers = make_calls(SECRETS)
    assert rec.stats.recorded == 10
    data = store_bytes(tmp_path)
    assert data.count(b"<redacted>") == 14
    for name, secret in SECRETS.items():
        assert secret.encode() not in data, f"{name} leaked into the store"
        # nor any recognisable piece of it
        assert secret[-12:].encode() not in data, f"part of {name} leaked into the store"
    # what is not secret is kept, so recordings stay readable
    for kept in [b'"X-Trace": "t-1"', b'"user": "app"', b'"client_id": "app"', b'"Accept"']:
        assert kept in data

    # Keys leave secrets out: replay with other credentials finds the same recordings.
    rotated = {name: secret + "-rotated" for name, secret in SECRETS.items()}
    with apirec.recording(tmp_path, mode="replay") as replay:
        assert make_calls(rotated) == answers
    assert replay.stats.replayed == 10 and replay.stats.missed == 0


def test_user_rules_add_to_the_defaults(tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="record"):
        session(
            "q",
            session_id="sid-user-rule",
            api_key="sk-default-rule",
            extra_headers={"X-Internal-Auth": "hdr-user-rule", "Authorization": "Bearer dflt"},
        )
    data = store_bytes(tmp_path)
    for secret in [b"sid-user-rule", b"sk-default-rule", b"hdr-user-rule", b"Bearer dflt"]:
        assert secret not in data
    assert data.count(b"<redacted>") == 4


def test_patch_takes_redaction_rules_too(tmp_path: Path) -> None:
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch("tests.test_secrets.search", redact=["query"])
        search("private query text", "sk-patched-secret")
    data = store_bytes(tmp_path)
    assert b"private query text" not in data  # the user's rule...
    assert b"sk-patched-secret" not in data  # ...and the default one
    assert b"PRIVATE QUERY TEXT" in data  # answers are stored as returned


def test_a_replay_miss_does_not_show_secrets(tmp_path: Path) -> None:
    with (
        apirec.recording(tmp_path, mode="replay"),
        pytest.raises(apirec.RecordingNotFound) as missed,
    ):
        chat(MESSAGES, api_key="sk-shown-nowhere", extra_headers={"Authorization": "B x1"})
    assert "sk-shown-nowhere" not in str(missed.value)
    assert "B x1" not in str(missed.value)
    assert "<redacted>" in str(missed.value)
