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


# -- dotted paths reach into models, dataclasses, lists and header pairs ----------------------


class Settings(BaseModel):
    region: str
    license_key: str
    request_id: str = "r-0"


@dataclasses.dataclass
class SettingsData:
    region: str
    license_key: str
    request_id: str = "r-0"


@apirec.record(
    name="secrets.configure",
    redact=["settings.license_key", "headers.X-License"],
    ignore=["settings.request_id", "headers.X-Request-Id"],
)
def configure(settings: Any, headers: Any = None) -> str:
    return "configured"


def settings_shapes(license_key: str, request_id: str) -> dict[str, Any]:
    plain = {"region": "eu", "license_key": license_key, "request_id": request_id}
    return {
        "dict": plain,
        "model": Settings(**plain),
        "dataclass": SettingsData(**plain),
        "list of dicts": [plain, {**plain, "region": "us"}],
        "list of models": [Settings(**plain)],
        "tuple of dataclasses": (SettingsData(**plain),),
    }


def header_shapes(license_key: str, request_id: str, token: str) -> dict[str, Any]:
    pairs = [
        ["Authorization", f"Bearer {token}"],
        ["X-License", license_key],
        ["X-Request-Id", request_id],
        ["Accept", "json"],
    ]
    return {
        "pairs as lists": pairs,
        "pairs as tuples": [tuple(pair) for pair in pairs],
        "tuple of tuples": tuple(tuple(pair) for pair in pairs),
        "dict": dict(pairs),
    }


def configure_calls(license_key: str, request_id: str, token: str) -> list[Any]:
    answers = [configure(s) for s in settings_shapes(license_key, request_id).values()]
    headers = header_shapes(license_key, request_id, token).values()
    return answers + [configure({"region": "eu"}, headers=h) for h in headers]


def test_dotted_paths_reach_into_models_dataclasses_lists_and_header_pairs(tmp_path):
    secrets = {"license": "LIC-dotted-path-secret-77", "token": "tok-header-pair-secret-78"}
    with apirec.recording(tmp_path, mode="record") as rec:
        configure_calls(secrets["license"], "req-volatile-1", secrets["token"])
    assert rec.stats.recorded == 10
    data = store_bytes(tmp_path)
    for name, secret in secrets.items():
        assert secret.encode() not in data, f"{name} leaked into the store"
    assert b"req-volatile-1" not in data  # ignored: neither keyed nor stored
    assert b'"region": "us"' in data and b'"Accept"' in data
    # a key, not a value, on the paths: kept
    assert data.count(b'"license_key"') == 7 and data.count(b'"X-License"') == 4

    # Keys leave them out: other secrets and another request id find the same recordings.
    with apirec.recording(tmp_path, mode="replay") as replay:
        configure_calls("LIC-other", "req-volatile-2", "tok-other")
    assert replay.stats.replayed == 10 and replay.stats.missed == 0


def test_a_value_off_the_dotted_path_stays_in_the_key(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        configure({"region": "eu", "license_key": "L1"})
    with apirec.recording(tmp_path, mode="replay"), pytest.raises(apirec.RecordingNotFound):
        configure({"region": "us", "license_key": "L1"})
