"""The write gate's detector and walk, on their own: token shapes found inside any string,
look-alikes left alone, placeholders of the value's type, idempotence."""

from __future__ import annotations

import base64
import json
import string

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apirec.gate.detect import find_spans, might_hold_token, scrub_bytes, scrub_text
from apirec.gate.names import HEADERS, QUERY, is_secret_name
from apirec.gate.walk import findings, scrub_entry

TOKENS = {
    "openai_key": "sk-proj-Q7xW2mN9pL4kR8vT1yB6cZ3hJ5gF0dSaE_xyz-0",
    "anthropic_key": "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jj1Ii0Hh-AA",
    "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE",
    "github_token": "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
    "slack_token": "xoxb-2048-1024-Zx9Yw8Vu7Ts6",
    "google_api_key": "AIzaSyD-1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6",
    "huggingface_token": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P",
    "stripe_key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "private_key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKCAQ==\n"
    "-----END RSA PRIVATE KEY-----",
}

# Text around a token: it must go, the text must stay.
FRAMES = [
    "{}",
    "Incorrect API key provided: {}. You can find your API key at ...",
    "key={}&x=1",
    '{{"api": "{}"}}',
    "(token {})",
]


@pytest.mark.parametrize("frame", FRAMES)
@pytest.mark.parametrize("kind", sorted(TOKENS))
def test_each_token_shape_is_replaced_inside_any_text(kind, frame):
    text = frame.format(TOKENS[kind])
    kinds: list[str] = []
    out = scrub_text(text, kinds)
    assert TOKENS[kind] not in out and kind in kinds
    assert out == frame.format("<redacted>")
    assert scrub_text(out) == out  # idempotent
    assert might_hold_token(text.encode())  # the key side's pre-check sees it too


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Authorization: Bearer abc123DEF456ghi", "Authorization: Bearer <redacted>"),
        ("https://user:pa55@host.test/v1/x", "https://<redacted>@host.test/v1/x"),
        ("https://TOKEN123@git.test/repo.git", "https://<redacted>@git.test/repo.git"),
        ("openai GET /models?api_key=abc&limit=2", "openai GET /models?api_key=<redacted>&limit=2"),
        ("https://maps.test/geo?key=AIzaKeyAbc123Def456&q=Paris", "https://maps.test/geo?key=<redacted>&q=Paris"),
        ("https://s3.test/o?X-Amz-Signature=ff00&a=b", "https://s3.test/o?X-Amz-Signature=<redacted>&a=b"),
    ],
)  # fmt: skip
def test_bearer_values_and_url_credentials(text, expected):
    assert scrub_text(text) == expected
    assert scrub_text(expected) == expected


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "credentials", ["alice:PASSWDs3cr3t9911", "a:b", "llama-user:pa55 w0rd", "user:", ":token"]
)
@pytest.mark.parametrize(
    "frame", ["Authorization: Basic {}", "BASIC {}.", '"Basic {}"', "auth=Basic {}&x=1"]
)
def test_basic_credentials_are_replaced(credentials, frame):
    text = frame.format(b64(credentials))
    kinds: list[str] = []
    assert scrub_text(text, kinds) == frame.format("<redacted>")
    assert kinds == ["basic_credentials"] and might_hold_token(text.encode())
    assert scrub_text(frame.format(b64(credentials).rstrip("="))) == frame.format("<redacted>")


BASIC_LOOKALIKES = [
    "Basic information", "Basic Auth", "Basic authentication: user:pw", "Basic plan",
    "Basic " + b64("no colon in here"), "Basic " + b64("tab\t:and control"),
    "Basic " + base64.b64encode(bytes(range(40))).decode(),  # binary, not text
    "Basic " + b64("user:pass") + "x",  # not base64 to its end
    "BasicYWxpY2U6cHc=", "NotBasic " + b64("user:pass"), "Basic",
    "basic information", "basic plan", "basic auth", "a basic " + b64("no colon in here"),
    "basicYWxpY2U6cHc=", "nonbasic " + b64("user:pass"), "Basic+plan", "basic%20plan",
]  # fmt: skip


@pytest.mark.parametrize("text", BASIC_LOOKALIKES)
def test_basic_look_alikes_are_left_alone(text):
    assert scrub_text(text) == text and find_spans(text) == []


LOOKALIKES = [
    "chatcmpl-1", "chatcmpl-AbCdEf0123456789", "req_0123456789abcdef0123456789abcdef",
    "call_0", "resp_1", "msg_1", "org-secret", "3f2b8c1e-9d4a-4e7b-8a6f-1c2d3e4f5a6b", "0" * 64,
    "task-1234567890abcdefghijklmnop", "ask-1234567890abcdefghijklmnopqrs", "sk-learn",
    "scikit-learn", "sk-short-1", "risk-free-investment-strategies-2024",
    "Bearer bonds are nice", "the bearer of this letter", "AKIA", "AKIAshort",
    "XAKIAIOSFODNN7EXAMPLE", "hf_hub_download", "ghp_short", "eyJhbGciOiJIUzI1NiJ9",
    "https://example.test/path?q=llamas&page_token=abc&max_tokens=5",
    "mailto:someone@example.test", "someone@example.test", "a = b", "x==y",
    "gpt-4o-mini", "claude-3-5-sonnet-20241022", "text-embedding-3-small",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "Bearer+bonds+are+nice", "Bearer%20bonds", "q=Bearer%2030-year-bonds", "Token+limit+exceeded",
    '"https:\\/\\/alice@mirror.example.test\\/"', '"https:\\/\\/host:8080\\/a@b.test"',
    "\x1b[1mbold\x1b[0m text", "caf\\xc3\\xa9 au lait", "&#233t&#233", "\\U0001F600 smile",
]  # fmt: skip


@pytest.mark.parametrize("text", LOOKALIKES)
def test_ordinary_text_and_ids_are_left_alone(text):
    assert scrub_text(text) == text and find_spans(text) == []


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=3000))
def test_base64_payloads_are_left_alone(data):
    for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
        assert scrub_bytes(encoded) == encoded


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?'\"()\n", max_size=400))
def test_prose_is_left_alone_and_scrubbing_is_idempotent(text):
    once = scrub_text(text)
    assert scrub_text(once) == once
    assert once == text


@pytest.mark.parametrize(
    "name, context",
    [
        ("api_key", None), ("X-Api-Key", None), ("cf-aig-authorization", None),
        ("X-Authorization", None), ("Helicone-Auth", None), ("X-Api-Token", None),
        ("client_secret", None), ("db_password", None), ("Set-Cookie", None),
        ("OpenAI-Organization", HEADERS), ("openai-project", HEADERS), ("key", QUERY),
        ("X-Amz-Signature", QUERY),
    ],
)  # fmt: skip
def test_one_names_rule(name, context):
    assert is_secret_name(name, context)


@pytest.mark.parametrize(
    "name, context",
    [("max_tokens", None), ("page_token", None), ("key", None), ("project", None),
     ("organization", None), ("tokens", None), ("page_token", QUERY), ("sort_key", QUERY)],
)  # fmt: skip
def test_names_that_are_not_secrets(name, context):
    assert not is_secret_name(name, context)


def test_placeholders_keep_the_type_and_the_walk_reaches_everything():
    secret_bytes = base64.b64encode(b"raw " + TOKENS["openai_key"].encode()).decode()
    entry = {
        "test_id": None,
        "request": {"function": "f?api_key=abc", "args": {"headers": [["Authorization", "x"]]}},
        "response": {
            "body": {
                "__type__": "m.Model",
                "__data__": {
                    "password": "hunter2",
                    "api_key": {"__type__": "builtins.bytes", "__data__": "AAAA"},
                    "token": 3,  # a count named like a secret: kept
                    "logprobs": [{"token": " Hello", "logprob": -0.1}],  # text, kept
                    "raw": {"__type__": "builtins.bytes", "__data__": secret_bytes},
                    "note": f"echo {TOKENS['github_token']}",
                },
                "__state__": {"private": {"_request_id": TOKENS["jwt"]}},
            },
            "is_streaming": False,
        },
    }
    out = scrub_entry(entry)
    data = out["response"]["body"]["__data__"]
    assert data["password"] == "<redacted>"
    assert base64.b64decode(data["api_key"]["__data__"]) == b"<redacted>"
    assert data["token"] == 3 and data["logprobs"] == [{"token": " Hello", "logprob": -0.1}]
    assert base64.b64decode(data["raw"]["__data__"]) == b"raw <redacted>"
    assert data["note"] == "echo <redacted>"
    assert out["response"]["body"]["__state__"]["private"]["_request_id"] == "<redacted>"
    assert out["request"]["function"] == "f?api_key=<redacted>"
    assert out["request"]["args"]["headers"] == [["Authorization", "<redacted>"]]
    assert scrub_entry(out) == out  # idempotent
    assert entry["response"]["body"]["__data__"]["password"] == "hunter2"  # not in place
    assert findings(out) == []
    kinds = sorted(kind for _, kind in findings(entry))
    assert kinds == sorted(
        ["url_query_secret", "secret_name", "secret_name", "secret_name", "openai_key",
         "github_token", "jwt"]
    )  # fmt: skip
    assert json.dumps(out)  # still JSON


def test_an_entry_too_deep_for_the_gate_is_refused_not_written_unread():
    from apirec.errors import StoreError
    from apirec.stores.gated import gated

    value: object = "sk-proj-Q7xW2mN9pL4kR8vT1yB6cZ3hJ5gF0dSaE"
    for _ in range(5000):
        value = {"a": value}
    with pytest.raises(StoreError, match="nested too deeply"):
        gated({"response": {"body": value, "is_streaming": False}})


@pytest.mark.parametrize(
    "text",
    [
        "keys-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",  # "s-" as in xoxs-
        "echo-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk",  # "o-" as in xoxo-
    ],
)
def test_a_shape_is_found_where_another_shape_could_have_started(text):
    assert scrub_text(text).endswith("<redacted>")


# --- issue 17 follow-up: boundaries, names and shapes the adversarial review found -------

OAI = "sk-proj-Abcdefghijklmnop1234567890QRSTuv"
OLD_OAI = "sk-" + "T3BlbkFJ" * 6  # 51 characters: as a msgpack str8, its length byte is "3"
PGP_KEY = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBF0PGPxyz123\n-----END PGP PRIVATE KEY BLOCK-----"
)
TOKEN_AUTH = "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


@pytest.mark.parametrize(
    "text, expected",
    [
        (json.dumps({"text": "my key is\n" + OAI}), json.dumps({"text": "my key is\n<redacted>"})),
        ("tab\\t" + OAI, "tab\\t<redacted>"),
        ("\\u0020" + OAI, "\\u0020<redacted>"),
        (f"https://e.test/s?q=key%3D{OAI}&x=1", "https://e.test/s?q=key%3D<redacted>&x=1"),
        (f"hello%20{OAI}", "hello%20<redacted>"),
        (f"x%41{OAI}", f"x%41{OAI}"),  # an escaped "A": part of the word, no boundary
        (f"x%2D{OAI}", "x%2D<redacted>"),  # an escaped "-" separates as "-" does
        (f"a\\\\n{OAI}", "a\\\\n<redacted>"),  # ``\n`` escaped twice (or a backslash and n)
        ("https://alice:hunter@2secretPW@db.example.test/x", "https://<redacted>@db.example.test/x"),
        ("https://oauth2:" + "Z9q" * 90 + "@git.test/r.git", "https://<redacted>@git.test/r.git"),
        ("ssh://git@github.com/org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("https://alice@mirror.example.test/", "https://alice@mirror.example.test/"),
        ("glpat-AbCdEf0123456789xyZW", "<redacted>"),
        ("r8_" + "Ab3dEf9hIj" * 4, "<redacted>"),
        (TOKEN_AUTH, "Authorization: Token <redacted>"),
        (PGP_KEY, "<redacted>"),
        ("sk-" + "T3BlbkFJ" * 6, "<redacted>"),
        ("sk-svcacct-" + "Ab3dEf9hIj" * 4, "<redacted>"),
        ("sk-test-000000000000000000000001", "<redacted>"),
        # escapes and spellings of text that a program printed or encoded
        (repr("é".encode() + OAI.encode()), "b'\\xc3\\xa9<redacted>'"),  # bytes' repr: \xNN
        ("\\U0001F600" + OAI, "\\U0001F600<redacted>"),
        ("\\303\\251" + OAI, "\\303\\251<redacted>"),  # octal, as git quotes a path
        ("\\040" + OAI, "\\040<redacted>"),
        ("caf&#233" + OAI, "caf&#233<redacted>"),  # an HTML reference without its ";"
        ("&#xE9" + OAI, "&#xE9<redacted>"),
        ("bad key \x1b[1m" + OAI + "\x1b[0m", "bad key \x1b[1m<redacted>\x1b[0m"),
        ("token \x1b[1;33m" + TOKENS["github_token"], "token \x1b[1;33m<redacted>"),
        ("\\x1b[31m" + OAI, "\\x1b[31m<redacted>"),  # an ANSI code in a repr
        ("\\u001b[0m" + OAI, "\\u001b[0m<redacted>"),
        ('{"u": "https:\\/\\/admin:s3cretPassw0rd@db.example.com\\/x"}',
         '{"u": "https:\\/\\/<redacted>@db.example.com\\/x"}'),  # JSON escaping its slashes
        ("authorization: basic " + b64("alice:s3cretPass"), "authorization: basic <redacted>"),
        ("https://e.test/cb?h=Bearer%20abcDEF1234567890xyz", "https://e.test/cb?h=Bearer%20<redacted>"),
        ("h=Bearer%2520abcDEF1234567890xyz", "h=Bearer%2520<redacted>"),
        ("header=Bearer+abcDEF1234567890xyz", "header=Bearer+<redacted>"),
        ("a=Basic%20" + b64("alice:pw").replace("=", "%3D"), "a=Basic%20<redacted>%3D"),
        ("h=Token+9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "h=Token+<redacted>"),
    ],
)  # fmt: skip
def test_escapes_urls_and_new_shapes(text, expected):
    assert scrub_text(text) == expected
    assert scrub_text(expected) == expected


ANT = "sk-ant-api03-" + ("Ab3dEf9hIj" * 10)[:95]


@pytest.mark.parametrize(
    "data",
    [
        b"\x82\xa4note\xa6issued\xa5value\xd9" + bytes([len(ANT)]) + ANT.encode(),  # msgpack str8
        b"\x0a\x06issued\x12" + bytes([len(ANT)]) + ANT.encode(),  # protobuf field 2
        b"\x12" + bytes([len(OAI)]) + OAI.encode() + b"\x18\x01",
        # the byte after the string reads as a letter or digit: the token ends with the string
        msgpack.packb([OLD_OAI, 100]),  # str8, length byte "3", then the fixint "d"
        *(msgpack.packb([("sk-" + "a1" * 60)[:n], n]) for n in (48, 57, 65, 90, 97, 122)),
        b"\x0a" + bytes([len(OLD_OAI)]) + OLD_OAI.encode() + b"\x32\x02hi",  # then field 6
        msgpack.packb(["AKIAIOSFODNN7EXAMPLE", 100]),  # fixstr: the length in the type byte
        msgpack.packb({"k": "AIzaSyD-1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6", "n": 7}),
        msgpack.packb(OAI.encode() + b" " * (0x3141 - len(OAI)), use_bin_type=True),  # bin16
        msgpack.packb(OAI.encode() + b" " * (0x6161 - len(OAI)), use_bin_type=True),
        msgpack.packb(OAI.encode() + b"x" * (0x1_0061 - len(OAI)), use_bin_type=True),  # bin32
        msgpack.packb([OAI.encode(), 100], use_bin_type=True),  # bin8
        msgpack.packb(["Basic " + b64("alice:pw"), 65]),  # a check on the string alone
    ],
)
def test_a_token_after_a_length_byte_in_binary_data_is_found(data):
    assert scrub_bytes(data).count(b"<redacted>") == 1
    assert might_hold_token(msgpack.packb(["f", {"a": data}, "t::x"], use_bin_type=True))


@pytest.mark.parametrize(
    "text",
    [
        "sk-2024-summer-collection-blue-xl", "sk-learn-0-24-2-docs-and-examples",
        "Token limit exceeded", "Token 42 of 100000", "AccessToken abcdefghij0123456789xyz",
        "glpat-short", "r8_short", PGP_KEY.replace("PRIVATE", "PUBLIC"),
        " ask-1234567890abcdefghijklmnopqrs",
    ],
)  # fmt: skip
def test_more_lookalikes_are_left_alone(text):
    assert scrub_text(text) == text
    assert scrub_bytes(text.encode()) == text.encode()  # binary rules change no text


@pytest.mark.parametrize(
    "name, context",
    [
        ("accessToken", None), ("refreshToken", None), ("clientSecret", None),
        ("privateKey", None), ("apiKey", None), ("secretAccessKey", None),
        ("SecretAccessKey", None), ("SessionToken", None), ("AWSSecretAccessKey", None),
        ("X-RapidAPI-Key", None), ("X-Subscription-Token", None), ("PRIVATE-TOKEN", None),
        ("X-Vault-Token", None), ("X-Auth-Key", None), ("X-Auth-Token", None),
        ("X-CSRF-Token", HEADERS),
    ],
)  # fmt: skip
def test_camel_case_and_header_credential_names(name, context):
    assert is_secret_name(name, context)


@pytest.mark.parametrize(
    "name, context",
    [("maxTokens", None), ("pageToken", None), ("nextToken", None), ("next_token", QUERY),
     ("maxCompletionTokens", None), ("inputTokens", None), ("AccessKeyId", None),
     ("pageToken", QUERY), ("sortKey", QUERY)],
)  # fmt: skip
def test_pagination_and_count_names_stay_keyed(name, context):
    assert not is_secret_name(name, context)


def test_a_logprobs_token_is_text_and_redacted_keys_never_merge():
    logprob = {"token": "responsibilities", "logprob": -0.1, "bytes": list(b"responsibilities")}
    body = {
        "logprobs": {"content": [{**logprob, "top_logprobs": [logprob]}]},
        "usage_by_key": {OAI: 1, OAI.replace("A", "B"): 2, "<redacted>": 3},
        "credentials": {"opaque-key-as-a-dict-key-000000000042": {"calls": 3}, "user": "x"},
        "request": {"token": "a-real-secret-session-value-42"},  # no logprob beside it: a secret
    }
    entry = {"test_id": None, "response": {"body": body, "is_streaming": False}}
    out = scrub_entry(entry)["response"]["body"]
    assert out["logprobs"] == body["logprobs"]
    assert out["usage_by_key"] == {"<redacted:2>": 1, "<redacted:3>": 2, "<redacted>": 3}
    assert out["credentials"] == {"<redacted>": {"calls": 3}, "user": "<redacted>"}
    assert out["request"] == {"token": "<redacted>"}
    assert scrub_entry(scrub_entry(entry)) == scrub_entry(entry)  # idempotent


SECRET = "opaqueSecretValue0123456789xyz"


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"arguments": json.dumps({"payload": json.dumps({"text": "key:\n" + OAI})})}),
        json.dumps({"payload": json.dumps({"text": "key:\t" + OAI})}),
        "https://x.test/r?next=%2Fcb%253Fq%253D" + OAI,
        "hello%2520" + OAI,
        "hello%252520" + OAI,
    ],
)
def test_keys_escaped_twice_are_found(text):
    assert OAI not in scrub_text(text)
    assert scrub_text(text).count("<redacted>") == 1


@pytest.mark.parametrize(
    "text",
    [
        "x%2541" + OAI, "x%41" + OAI, "25%41" + OAI, "x%5Cu0041" + OAI,
        "\\x41" + OAI, "\\101" + OAI, "\\U00000041" + OAI, "&#65" + OAI, "&#x61" + OAI,
        "[1m" + OAI, "x[1m" + OAI, "\\[1m" + OAI,  # no ESC: a word ending in m
        "\\x4" + OAI, "\\18" + OAI, "&233" + OAI, "&#12a" + OAI,
    ],
)  # fmt: skip
def test_an_escaped_word_character_stays_part_of_the_word(text):
    assert scrub_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "acme-" + OAI,
        "acme_" + OAI,
        "acme-" + TOKENS["anthropic_key"],
        "prod-" + TOKENS["github_token"],
        "x_" + TOKENS["huggingface_token"],
        "key: acme-" + OAI + ".",
        "x%252D" + OAI,  # an escaped hyphen separates as a hyphen does
    ],
)
def test_a_key_after_a_hyphen_or_underscore_is_redacted(text):
    """A hyphen or underscore joins words into an id; a key after one (``acme-sk-proj-...``,
    a tenant's prefix glued to its key) is still a key."""
    out = scrub_text(text)
    assert out.count("<redacted>") == 1 and not any(t in out for t in (OAI, *TOKENS.values()))


JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZXhwIjo5OTk5OTk5OTk5fQ."
    "SflKxwRJSMeKKF2QT4fMJf36POk6yJV_adQssw5c"
)


@pytest.mark.parametrize(
    "data",
    [
        msgpack.packb({"t": JWT + " " * (0x141 - len(JWT))}),  # str16, low length byte "A"
        msgpack.packb({"t": JWT + " " * (0x1_0000 + 0x61 - len(JWT))}),  # str32, "a"
        msgpack.packb({"t": JWT + " " * (0x012D - len(JWT))}),  # str16, "-"
        b"\x0a\x81a" + (JWT + "." * (12417 - len(JWT))).encode(),  # protobuf 2-byte varint
    ],
)
def test_a_token_after_a_2_or_4_byte_length_is_found(data):
    assert scrub_bytes(data).count(b"<redacted>") == 1


@pytest.mark.parametrize(
    "data",
    [
        b"\xda a" + OAI.encode(),  # str16: a length past the end of the data
        b"\xdb\x00\x00 a" + OAI.encode(),  # str32: the same
        b"xa" + OAI.encode(),  # printable: a word
        msgpack.packb(["ask-1234567890abcdefghijklmnopqrs", 100]),  # a word right after a length
        msgpack.packb(["task-" + OAI[3:], 100]),
        msgpack.packb(["XAKIAIOSFODNN7EXAMPLE", 100]),
        msgpack.packb(["AKIAIOSFODNN7EXAMPLEX", 100]),  # longer than a key: no key
        b"\x0a\x06issued\x12\x2aask-1234567890abcdefghijklmnopqrs",
    ],
)
def test_bytes_that_are_no_length_keep_the_fence(data):
    assert scrub_bytes(data) == data


def _tuple(*items):
    return {"__type__": "builtins.tuple", "__data__": list(items)}


def _bytes(data: bytes):
    return {"__type__": "builtins.bytes", "__data__": base64.b64encode(data).decode()}


@pytest.mark.parametrize(
    "body, secret",
    [
        ({"headers": [_tuple("X-Api-Key", SECRET), _tuple("Accept", "json")]}, SECRET),
        ([_tuple("authorization", "Token-less " + SECRET)], SECRET),
        ({"headers": [_tuple(_bytes(b"x-api-key"), _bytes(SECRET.encode()))]}, SECRET),
        ({"__type__": "builtins.dict", "__data__": [["api_key", SECRET], [0, "first"]]}, SECRET),
        (
            {"headers": {"__type__": "builtins.dict", "__data__": [["Cookie", SECRET], [1, "x"]]}},
            SECRET,
        ),
        ({"token": [SECRET]}, SECRET),
        ({"token": {"value": SECRET}}, SECRET),
        ({"token": SECRET, "bytes": 30}, SECRET),
        ({"token": SECRET.encode(), "logprob": -1.0}, SECRET),
        ({"pair": _tuple("X-Api-Key", SECRET)}, SECRET),  # one tuple pair, as the key reads it
        (_tuple("password", SECRET), SECRET),
    ],
)  # fmt: skip
def test_secret_names_in_tuples_mixed_key_dicts_and_token_containers(body, secret):
    entry = {"test_id": None, "response": {"body": body, "is_streaming": False}}
    out = scrub_entry(entry)
    assert secret not in repr(out)
    assert "b3BhcXVl" not in repr(out)  # nor its base64
    assert findings(entry)
    assert scrub_entry(out) == out


@pytest.mark.parametrize(
    "text, expected",
    [
        ("invalid header 'authorization: bearer 9f8e7d6c5b4a3f2e1d0c'",
         "invalid header 'authorization: bearer <redacted>'"),
        ("postgres://alice:pa/" + SECRET + "@db.x.test/app", "postgres://<redacted>@db.x.test/app"),
        ("https://abcdef0123456789abcdef0123456789@o0.ingest.sentry.io/1",
         "https://<redacted>@o0.ingest.sentry.io/1"),
        ("https://TOKEN123@git.test/repo.git", "https://<redacted>@git.test/repo.git"),
        ("https://maps.test/geo?key=AIzaKeyAbc123Def456&q=1", "https://maps.test/geo?key=<redacted>&q=1"),
        ("Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b",
         "Authorization: Token <redacted>"),
        ("xoxb-2048-1024-Zx9Yw8Vu7Ts6", "<redacted>"),
    ],
)  # fmt: skip
def test_lower_case_bearer_slashed_passwords_and_key_like_url_users(text, expected):
    assert scrub_text(text) == expected
    assert scrub_text(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://tv.example/reviews/xoxo-gossip-girl-season-2",
        "Love you all, xoxo-the-whole-family",
        "https://Contoso@dev.azure.com/Contoso/Project/_git/repo", "ftp://Anonymous@ftp.example.org/pub",
        "http://john.doe2@x.test/", "Bearer 30-year-bonds pay more.",
        "Token gpt-4o-mini-2024-07-18 limit reached", "https://files.example/o?key=reports/2024/q1.pdf",
        "https://host:8080/path/user@example.com", "http://localhost:8080?to=bob@b.test",
    ],
)  # fmt: skip
def test_slugs_capitalised_users_prose_and_object_keys_are_left_alone(text):
    assert scrub_text(text) == text


@pytest.mark.parametrize(
    "name",
    ["authorization_endpoint", "password_policy", "cookie_policy", "two_factor_auth",
     "token_endpoint", "api_key_required", "password_min_length"],
)  # fmt: skip
def test_names_about_a_secret_are_not_secrets(name):
    assert not is_secret_name(name) and not is_secret_name(name, HEADERS)


@pytest.mark.parametrize("name", ["password", "db_password", "authorization", "auth_token"])
def test_names_of_secrets_stay_secret(name):
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "body, kept",
    [
        ({"id": 50256, "token": "internationalization"}, True),
        ({"token": "a-real-secret-session-value-42"}, False),
        ({"token": "tok-model-field-secret"}, False),  # words joined: no plain word
        ({"token": "▁internationalization"}, True),
        ({"url": "https://api.x.test/1?oauth_token=" + SECRET + "&a=1"}, False),
        ({"params": {"key": "reports/2024/q1.pdf"}}, True),
        ({"params": {"key": "AIzaKeyAbc123Def456"}}, False),
    ],
)
def test_token_and_query_key_values_are_secrets_when_they_look_like_credentials(body, kept):
    entry = {"test_id": None, "response": {"body": body, "is_streaming": False}}
    assert (scrub_entry(entry) == entry) is kept
