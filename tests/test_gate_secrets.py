"""The write gate: no secret reaches any store, whichever path wrote the entry.

Real openai clients against the loopback fake (tests/openai_server.py) record into the JSON
and the msgpack store; then every byte under the store directory is searched for each secret
and for every token shape the detector knows. Other paths (``@record``, ``rec.patch``,
``convert``, expiry re-record, rekey moves) are driven through the public API too.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import msgpack
import openai
import pydantic
import pytest

import apirec
from apirec.gate.detect import find_spans
from apirec.integrations.openai import patch_openai
from apirec.record.renames import Renames
from apirec.stores.convert import convert
from apirec.stores.json_store import JsonStore
from apirec.stores.msgpack.store import FILE_NAME, MsgpackStore

# An OpenAI-shaped key: the fake echoes it in answers, errors and a response header.
KEY = "sk-proj-Q7xW2mN9pL4kR8vT1yB6cZ3hJ5gF0dSaE"
MESSAGES = [{"role": "user", "content": "name a llama"}]
BASIC = base64.b64encode(b"llama-user:pa55w0rd-in-url").decode()


def store_bytes(root: Path) -> bytes:
    """Every byte under ``root``, and the msgpack store's recordings decompressed (its
    frames are zstd: a secret in them is not visible as it is)."""
    data = b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())
    if (root / FILE_NAME).exists():
        store = MsgpackStore(root)
        data += b"".join(body for _, _, body in store.records())
        store.close()
    return data


def assert_clean(root: Path, *secrets: str) -> None:
    data = store_bytes(root)
    assert data, "nothing was stored"
    for secret in (KEY, *secrets):
        assert secret.encode() not in data, f"{secret!r} reached the store"
    shapes = find_spans(data.decode("latin-1"))
    assert not shapes, f"token shapes on disk: {shapes}"


def client(base_url: str, **more):
    return openai.OpenAI(base_url=base_url, api_key=KEY, max_retries=0, **more)


def with_userinfo(base_url: str) -> str:
    return base_url.replace("http://", "http://llama-user:pa55w0rd-in-url@")


# (name, call, secrets that must not be stored besides KEY)
CALLS = {
    **{
        f"extra_headers {name}": (
            lambda c, name=name: c.chat.completions.create(
                model="gpt-test", messages=MESSAGES, extra_headers={name: f"plain-{name}-v1"}
            ),
            [f"plain-{name}-v1"],
        )
        for name in [
            "cf-aig-authorization",
            "X-Authorization",
            "Helicone-Auth",
            "X-Api-Token",
            "OpenAI-Organization",
        ]
    },
    "extra_query key": (
        lambda c: c.chat.completions.create(
            model="gpt-test", messages=MESSAGES, extra_query={"key": "plain-query-key-v1"}
        ),
        ["plain-query-key-v1"],
    ),
    "get with ?api_key=": (
        lambda c: c.get("/models?api_key=plain-api-key-in-url&limit=2", cast_to=object),
        ["plain-api-key-in-url"],
    ),
    "answer echoes the key": (
        lambda c: c.chat.completions.create(model="echo-key", messages=MESSAGES),
        [],
    ),
    "raw call, user:pass@ base_url": (
        lambda c: c.chat.completions.with_raw_response.create(
            model="echo-key", messages=MESSAGES
        ).parse(),
        # httpx sends the userinfo as ``Authorization: Basic <base64>``: the fake echoes it
        ["pa55w0rd-in-url", "llama-user", BASIC],
    ),
    "stream, user:pass@ base_url": (
        lambda c: list(c.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)),
        ["pa55w0rd-in-url", "llama-user"],
    ),
}
USERINFO = {"raw call, user:pass@ base_url", "stream, user:pass@ base_url"}


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("case", sorted(CALLS))
def test_nothing_secret_reaches_the_store_from_the_openai_client(
    openai_server, store_dir, store, case
):
    call, secrets = CALLS[case]
    base = with_userinfo(openai_server.base_url) if case in USERINFO else openai_server.base_url
    with apirec.recording(store_dir, mode="record", store=store) as rec:
        patch_openai(rec)
        with client(base) as c:
            call(c)
    assert rec.stats.recorded == 1
    # the fake's private response headers: a cookie, organisation and project names
    assert_clean(store_dir, *secrets, "cookie-secret-1", "org-secret-2", "proj-secret-3")


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_an_error_echoing_the_key_is_stored_and_replayed_without_it(
    openai_server, store_dir, closed_url, store
):
    with apirec.recording(store_dir, mode="record", store=store) as rec:
        patch_openai(rec)
        with client(openai_server.base_url) as c, pytest.raises(openai.AuthenticationError):
            c.chat.completions.create(model="echo-key-error", messages=MESSAGES)
    assert_clean(store_dir)
    for _ in range(2):  # the same every time
        with apirec.recording(store_dir, mode="replay", store=store) as rec:
            patch_openai(rec)
            with client(closed_url) as c, pytest.raises(openai.AuthenticationError) as raised:
                c.chat.completions.create(model="echo-key-error", messages=MESSAGES)
        assert KEY not in str(raised.value) and "<redacted>" in str(raised.value)


ROTATING = {  # a call whose secret changes between record and replay: the same key
    "header": lambda c, v: c.chat.completions.create(
        model="gpt-test", messages=MESSAGES, extra_headers={"Helicone-Auth": f"Bearer {v}"}
    ),
    "query": lambda c, v: c.chat.completions.create(
        model="gpt-test", messages=MESSAGES, extra_query={"key": v}
    ),
    "url": lambda c, v: c.get(f"/models?api_key={v}", cast_to=object),
    "token in text": lambda c, v: c.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": f"is sk-live-{v} valid?"}]
    ),
}


@pytest.mark.parametrize("case", sorted(ROTATING))
def test_a_rotated_secret_replays_the_same_call(openai_server, store_dir, closed_url, case):
    with apirec.recording(store_dir, mode="record") as rec:
        patch_openai(rec)
        with client(openai_server.base_url) as c:
            ROTATING[case](c, "1111aaaa2222bbbb3333cccc")
    with apirec.recording(store_dir, mode="replay") as rec:
        patch_openai(rec)
        with client(closed_url) as c:
            ROTATING[case](c, "9999zzzz8888yyyy7777xxxx")
    assert rec.stats.replayed == 1 and rec.stats.missed == 0
    assert_clean(store_dir, "1111aaaa2222bbbb3333cccc")


# -- the recorder's own paths -------------------------------------------------------------


@apirec.record(name="gate.lookup")
def lookup(query: str, endpoint: str) -> dict[str, str]:
    return {"answer": f"{query} via {endpoint}", "echo": endpoint}


def test_a_token_in_an_argument_is_keyed_as_stored_and_survives_rotation(tmp_path):
    first = "ghp_" + "A1b2C3d4" * 5
    with apirec.recording(tmp_path, mode="record"):
        recorded = lookup("llamas", f"https://api.local/v1?q=x&note={first}")
    assert_clean(tmp_path, first)
    rotated = "ghp_" + "Z9y8X7w6" * 5
    for _ in range(2):
        with apirec.recording(tmp_path, mode="replay") as replay:
            again = lookup("llamas", f"https://api.local/v1?q=x&note={rotated}")
        assert replay.stats.replayed == 1
        assert again["answer"] == "llamas via https://api.local/v1?q=x&note=<redacted>"
    assert recorded["echo"].endswith(first)  # the caller got the live answer


def test_rec_patch_passes_the_gate(tmp_path):
    token = "xoxb-" + "1234567890-abcdefghij"
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch("tests.test_gate_secrets.lookup")
        lookup(f"Authorization: Bearer abc{token}", "https://u:p4ss@api.local/v1")
    assert_clean(tmp_path, token, "p4ss")


def test_convert_passes_the_gate(tmp_path):
    source, target, back = tmp_path / "json", tmp_path / "msgpack", tmp_path / "back"
    source.mkdir()
    entry = {  # written by hand, or by an older version: the key in clear
        "test_id": None,
        "request": {"function": "f", "args": {"api_key": "plain-old-secret"}, "key": "k"},
        "response": {"body": f"key is {KEY}", "is_streaming": False},
    }
    (source / "k.json").write_text(json.dumps(entry, indent=2) + "\n")
    convert(source, target, to="msgpack")
    assert_clean(target, "plain-old-secret")
    convert(target, back, to="json")
    assert_clean(back, "plain-old-secret")


SERVICE = {"says": "all is well"}


@apirec.record(name="gate.status")
def status() -> str:
    return SERVICE["says"]


def test_expired_answer_recorded_again_passes_the_gate(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        status()
    (path,) = tmp_path.glob("*.json")
    entry = json.loads(path.read_text())
    entry["recorded_at"] = "2000-01-01T00:00:00+00:00"
    path.write_text(json.dumps(entry, indent=2) + "\n")
    token = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz123456"
    SERVICE["says"] = f"token {token} expires soon"
    mode = "record-if-missing"
    with apirec.recording(tmp_path, mode=mode, max_age="1d", on_expired="record") as rec:
        assert status() == f"token {token} expires soon"  # live, recorded again in place
    assert rec.stats.recorded == 1 and len(list(tmp_path.glob("*.json"))) == 1
    assert_clean(tmp_path, token)


def test_rekey_moves_pass_the_gate(tmp_path):
    store = JsonStore(tmp_path)
    old = {"test_id": "t::old", "request": {"function": "f", "args": {}, "key": "old"},
           "response": {"body": f"Bearer {KEY}", "is_streaming": False}}  # fmt: skip
    (tmp_path / "old.json").write_text(json.dumps(old, indent=2) + "\n")
    renames = Renames(gone=lambda test: test == "t::old", rekey=True)
    renames._move(store, [("old", 0)], "new", "t::old", "t::new", "f")
    assert not (tmp_path / "old.json").exists()
    assert_clean(tmp_path)


async def test_mcp_requests_and_results_pass_the_gate(tmp_path):
    """A real MCP server over stdio (tests/mcp_server.py) echoing a key in a prompt."""
    from mcp import Client

    from tests.mcp_helpers import SERVER, launch

    code = f'client = OpenAI(api_key="{KEY}")'
    store = tmp_path / "store"
    async with apirec.recording(store, mode="record") as rec:
        apirec.integrations.patch(rec, "mcp")
        async with Client(launch(SERVER, tmp_path / "server.log")) as mcp_client:
            prompt = await mcp_client.get_prompt("review", {"code": code})
    assert KEY in str(prompt)  # the caller got the live answer
    assert_clean(store)


# --- issue 17 follow-up: what the adversarial review found on disk -----------------------

SECRET = "sk-proj-Abcdefghijklmnop1234567890QRSTuv"
PGP_KEY = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0PGPSECRETBODYxyz123\n"
    "-----END PGP PRIVATE KEY BLOCK-----"
)
CAMEL = {
    "accessToken": "opaque-a-1",
    "refreshToken": "opaque-r-1",
    "clientSecret": "opaque-c-1",
    "privateKey": "opaque-p-1",
    "apiKey": "opaque-k-1",
    "Credentials": {"SecretAccessKey": "opaque-s-1", "SessionToken": "opaque-t-1"},
}
ANT_KEY = "sk-ant-api03-" + ("Ab3dEf9hIj" * 10)[:95]  # 108 characters: its length byte is "l"


class Creds(pydantic.BaseModel):
    kind: str
    raw: str = pydantic.Field(default="", exclude=True)  # kept in the envelope's __state__
    _key: str = pydantic.PrivateAttr(default="")


def creds(value: str) -> Creds:
    c = Creds(kind="openai", raw=value)
    c._key = value
    return c


ANSWERS = {  # (answer, secrets that must not be stored)
    "model_under_secret_name": (
        lambda: {"credentials": creds("opaque-vault-value-1")},
        ["opaque-vault-value-1"],
    ),
    "key_under_secret_name": (
        lambda: {"credentials": {"opaque-key-as-a-dict-key-000000000042": {"calls": 3}}},
        ["opaque-key-as-a-dict-key-000000000042"],
    ),
    "msgpack_body": (lambda: msgpack.packb({"note": "issued", "value": ANT_KEY}), [ANT_KEY]),
    "protobuf_body": (
        lambda: b"\x0a\x06issued\x12" + bytes([len(ANT_KEY)]) + ANT_KEY.encode(),
        [ANT_KEY],
    ),
    "escaped_newline": (
        lambda: {"arguments": json.dumps({"text": "my key is\n" + SECRET})},
        [SECRET],
    ),
    "url_encoded": (
        lambda: {"url": f"https://e.test/s?q=key%3D{SECRET}&x=1", "q": f"hello%20{SECRET}"},
        [SECRET],
    ),
    "camel_case": (lambda: CAMEL, [f"opaque-{c}-1" for c in "arcpkst"]),
    "header_name_token": (lambda: {"headers": {SECRET: "1"}}, [SECRET]),
    "url_at_in_password": (
        lambda: {"u": "https://alice:hunter@2secretPW@db.example.test/x"},
        ["2secretPW", "hunter"],
    ),
    "url_long_userinfo": (
        lambda: {"u": "https://oauth2:" + "Z9q" * 90 + "@git.example.test/r.git"},
        ["Z9q" * 90],
    ),
    "pgp_private_key": (lambda: {"k": PGP_KEY}, ["PGPSECRETBODY"]),
}


@apirec.record(name="gate.answer")
def answer(case: str) -> object:
    return ANSWERS[case][0]()


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("case", sorted(ANSWERS))
def test_secrets_in_model_state_binary_bodies_escapes_and_names_stay_off_disk(
    tmp_path, store, case
):
    with apirec.recording(tmp_path, mode="record", store=store):
        live = answer(case)
    assert_clean(tmp_path, *ANSWERS[case][1])
    with apirec.recording(tmp_path, mode="replay", store=store):
        replayed = answer(case)
    assert type(replayed) is type(live)  # a placeholder keeps the type: replay still builds
    seen = replayed if isinstance(replayed, bytes) else repr(replayed).encode()
    for secret in ANSWERS[case][1]:  # the JSON store keeps bytes as base64: ask the replay
        assert secret.encode() not in seen
    if case == "model_under_secret_name":
        model = replayed["credentials"]
        assert type(model) is Creds and model.raw == "<redacted>" and model._key == "<redacted>"


def test_redacted_dict_keys_never_merge(tmp_path):
    usage = {"sk-proj-Aaaaaaaaaaaaaaaa1234567890": 10, "sk-proj-Bbbbbbbbbbbbbbbb1234567890": 20}
    with apirec.recording(tmp_path, mode="record"):
        answer_usage = apirec.record(name="gate.usage")(lambda: {"usage_by_key": usage})
        answer_usage()
    with apirec.recording(tmp_path, mode="replay"):
        replayed = answer_usage()
    assert replayed == {"usage_by_key": {"<redacted>": 10, "<redacted:2>": 20}}


def test_convert_scrubs_every_field_of_an_entry(tmp_path):
    source, target, back = tmp_path / "json", tmp_path / "msgpack", tmp_path / "back"
    source.mkdir()
    entry = {  # an older or hand-written file: a key beside request and response
        "test_id": "t",
        "recorded_at": "2025-01-01T00:00:00Z",
        "versions": {"apirec": "0.1.0"},
        "request": {"function": "f", "args": {"p": "x"}, "key": "k"},
        "response": {"body": {"ok": 1}, "is_streaming": False},
        "id_normalization_mapping": {"note": SECRET},
        "notes": [f"made with {SECRET}"],
    }
    (source / "k.json").write_text(json.dumps(entry, indent=2) + "\n")
    convert(source, target, to="msgpack")
    assert_clean(target, SECRET)
    convert(target, back, to="json")
    assert_clean(back, SECRET)
    stored = json.loads((back / "k.json").read_text())
    assert stored["recorded_at"] == entry["recorded_at"] and stored["versions"] == entry["versions"]
