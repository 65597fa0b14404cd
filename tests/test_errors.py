"""Recorded exceptions (DESIGN §5): re-raised as their own class, or as apirec.ReplayedError."""

from __future__ import annotations

import json
import sys

import httpx2
import openai
import pytest

import apirec
from apirec.codec.exception_data import build_http_error
from tests.paths import LLAMA_STACK

FIXTURES = LLAMA_STACK


class QuotaExceeded(Exception):
    """An exception whose __init__ needs more than a message."""

    inits = 0

    def __init__(self, user: str, *, limit: int, retry_after: float) -> None:
        super().__init__(f"{user} went over {limit} calls")
        QuotaExceeded.inits += 1
        self.user = user
        self.limit = limit
        self.retry_after = retry_after
        self.details = {"window": "1m", "tags": ["a", "b"]}
        self.client = object()  # not data: left out, and said so


def only_entry(tmp_path):
    (path,) = tmp_path.glob("*.json")
    return path, json.loads(path.read_text())


def status_error(cls, status, body, message="Error code: {status} - bad"):
    request = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    response = httpx2.Response(status, json={"error": body}, request=request)
    return cls(message.format(status=status), response=response, body=body)


@pytest.mark.parametrize("is_async", [False, True])
async def test_error_whose_init_needs_arguments_replays_as_its_class(tmp_path, is_async):
    def fail(prompt):
        raise QuotaExceeded("ann", limit=10, retry_after=1.5)

    async def afail(prompt):
        fail(prompt)

    call = apirec.record(afail if is_async else fail, name="quota")

    async def run():
        return await call("hi") if is_async else call("hi")

    with apirec.recording(tmp_path, mode="record"), pytest.raises(QuotaExceeded):
        await run()
    _, entry = only_entry(tmp_path)
    response = entry["response"]
    assert response["is_exception"] is True
    assert response["exception_data"]["type"] == "tests.test_errors.QuotaExceeded"
    assert response["exception_data"]["not_recorded"] == {"client": "builtins.object"}

    inits = QuotaExceeded.inits
    with apirec.recording(tmp_path, mode="replay"), pytest.raises(QuotaExceeded) as info:
        await run()
    error = info.value
    assert QuotaExceeded.inits == inits  # built without calling __init__
    assert type(error) is QuotaExceeded
    assert str(error) == "ann went over 10 calls"
    assert (error.user, error.limit, error.retry_after) == ("ann", 10, 1.5)
    assert error.details == {"window": "1m", "tags": ["a", "b"]}
    assert not hasattr(error, "client")
    (note,) = error.__notes__
    assert "replayed by apirec from" in note
    assert "client (builtins.object)" in note


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (openai.BadRequestError, 400),
        (openai.RateLimitError, 429),
        (openai.APIStatusError, 503),
        (openai.InternalServerError, 500),
    ],
)
def test_openai_status_errors_replay_with_status_body_and_message(tmp_path, cls, status):
    body = {"message": "bad", "type": "invalid_request_error", "param": "model", "code": 7}

    @apirec.record(name="openai.chat")
    def create(model):
        raise status_error(cls, status, body)

    # store_errors="all": the transient ones (429, 5xx) are not stored by default
    with (
        apirec.recording(tmp_path, mode="record", store_errors="all"),
        pytest.raises(cls) as recorded,
    ):
        create("gpt")
    with apirec.recording(tmp_path, mode="replay"), pytest.raises(cls) as replayed:
        create("gpt")
    original, error = recorded.value, replayed.value
    assert type(error) is cls
    assert isinstance(error, openai.APIStatusError)
    for name in ("status_code", "body", "message", "code", "param", "type", "request_id"):
        assert getattr(error, name) == getattr(original, name), name
    assert error.status_code == status
    assert error.code == "7"
    assert str(error) == str(original) == f"Error code: {status} - bad"
    # The live HTTP objects are not data: absent on replay, and the traceback says so.
    with pytest.raises(AttributeError, match="response"):
        _ = error.response
    assert not hasattr(error, "request")
    assert "not recorded, so absent on replay: request (httpx2" in error.__notes__[0]


def test_except_clause_of_the_caller_runs_on_replay(tmp_path):
    """The caller's own retry logic executes on replay: fail, then succeed."""
    answers = iter([status_error(openai.RateLimitError, 429, {"message": "slow down"}), "ok"])

    @apirec.record(name="flaky")
    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def with_retry():
        attempts = []
        for _ in range(3):
            try:
                return call(), attempts
            except openai.RateLimitError as e:
                attempts.append(e.status_code)
        raise AssertionError("no answer")

    # a stored 429 replays to the caller's except clause (store_errors="all": not by default)
    with apirec.recording(tmp_path, mode="record", store_errors="all"):
        assert with_retry() == ("ok", [429])
    with apirec.recording(tmp_path, mode="replay"):
        assert with_retry() == ("ok", [429])


def test_unresolvable_class_replays_as_replayed_error(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    (package / "vendor_sdk").mkdir(parents=True)
    (package / "vendor_sdk" / "__init__.py").write_text(
        "class VendorError(Exception):\n"
        "    def __init__(self, message, code):\n"
        "        super().__init__(message)\n"
        "        self.code = code\n"
    )
    monkeypatch.syspath_prepend(str(package))
    import vendor_sdk

    store = tmp_path / "recordings"

    @apirec.record(name="vendor")
    def call():
        raise vendor_sdk.VendorError("quota gone", code=42)

    with apirec.recording(store, mode="record"), pytest.raises(vendor_sdk.VendorError):
        call()

    monkeypatch.delitem(sys.modules, "vendor_sdk")  # a fresh process that never imported it
    with apirec.recording(store, mode="replay"), pytest.raises(apirec.ReplayedError) as info:
        call()
    error = info.value
    assert isinstance(error, apirec.ApirecError)
    assert error.type_name == "vendor_sdk.VendorError"
    assert error.message == "quota gone"
    assert error.attributes == {"code": 42}
    assert error.code == 42
    assert str(error) == "vendor_sdk.VendorError: quota gone"
    assert "vendor_sdk" not in sys.modules  # replay did not import it

    # trusted_modules lets replay import it and raise the real class again
    with (
        apirec.recording(store, mode="replay", trusted_modules=["vendor_sdk"]),
        pytest.raises(Exception, match="quota gone") as trusted,
    ):
        call()
    assert type(trusted.value).__name__ == "VendorError"
    assert trusted.value.code == 42


@pytest.mark.parametrize(
    "type_name",
    [
        "builtins.SystemExit",  # an exception, but never raised from a file
        "builtins.KeyboardInterrupt",
        "openai.types.model.Model",  # a resolvable class that is not an exception
        "os.system",  # not a class at all
        "no_such_package.Error",
        "not a type name",
    ],
)
def test_hostile_or_wrong_types_in_a_file_become_replayed_error(tmp_path, type_name):
    @apirec.record(name="call")
    def call():
        raise ValueError("original")

    with apirec.recording(tmp_path, mode="record"), pytest.raises(ValueError):
        call()
    path, entry = only_entry(tmp_path)
    entry["response"]["exception_data"]["type"] = type_name
    path.write_text(json.dumps(entry, indent=2) + "\n")
    with apirec.recording(tmp_path, mode="replay"), pytest.raises(apirec.ReplayedError) as info:
        call()
    assert info.value.type_name == type_name
    assert info.value.message == "original"
    assert str(path) in info.value.__notes__[0]


@pytest.mark.parametrize("is_async", [False, True])
async def test_error_mid_stream_replays_the_chunks_then_raises(tmp_path, is_async):
    body = {"message": "content filtered", "type": "invalid_request_error"}

    def make_error():
        request = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
        return openai.APIError("content filtered", request, body=body)

    async def agen():
        yield "one"
        yield "two"
        raise make_error()

    def gen():
        yield "one"
        yield "two"
        raise make_error()

    source = apirec.record(agen if is_async else gen, name="stream")

    async def consume():
        got = []
        try:
            if is_async:
                async for c in source():
                    got.append(c)
            else:
                for c in source():
                    got.append(c)
        except openai.APIError as e:
            return got, e
        raise AssertionError("no error")

    with apirec.recording(tmp_path, mode="record"):
        assert (await consume())[0] == ["one", "two"]
    _, entry = only_entry(tmp_path)
    response = entry["response"]
    assert response["is_streaming"] is True
    assert response["is_exception"] is True
    assert response["body"] == ["one", "two"]
    assert response["exception_data"]["type"] == "openai.APIError"

    with apirec.recording(tmp_path, mode="replay"):
        got, error = await consume()
    assert got == ["one", "two"]
    assert type(error) is openai.APIError
    assert (error.message, error.body, error.type) == (
        "content filtered",
        body,
        "invalid_request_error",
    )


def test_error_before_the_first_chunk_is_a_stream_that_raises_at_once(tmp_path):
    @apirec.record(name="gen")
    def source():
        raise KeyError("missing")
        yield  # a generator function: the error comes with the first next()

    with apirec.recording(tmp_path, mode="record"):
        stream = source()
        with pytest.raises(KeyError):
            next(stream)
    with apirec.recording(tmp_path, mode="replay"):
        stream = source()
        with pytest.raises(KeyError) as info:
            next(stream)
        assert str(info.value) == "'missing'"
        assert list(stream) == []  # raised once, then ended


@pytest.mark.parametrize(
    "path",
    sorted(
        p
        for p in FIXTURES.glob("sample/*/recordings/*.json")
        if '"is_exception": true' in p.read_text()
    ),
    ids=lambda p: p.name[:12],
)
def test_llama_stack_exception_data_rebuilds_as_the_openai_class(path):
    """The helper issue 6 uses for llama-stack's {type, message, status_code, body} shape."""
    data = json.loads(path.read_text())["response"]["exception_data"]
    cls = getattr(openai, data["type"])
    error = build_http_error(
        cls, data["message"], status_code=data["status_code"], body=data["body"]
    )
    assert type(error) is openai.BadRequestError
    assert error.status_code == 400
    assert error.body == data["body"]
    assert error.message == str(error) == data["message"]
    assert error.type == data["body"].get("type")
    with pytest.raises(openai.BadRequestError):
        raise error
