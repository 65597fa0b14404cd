"""Transient failures are not stored (issue 13 point 4): in the recording modes an error that
says "try again" reaches the caller but is not written, so a retry loop's final answer is what
gets recorded and replayed; ``store_errors=`` changes that per recording or per function."""

from __future__ import annotations

import contextlib
import http
import json
from pathlib import Path

import anthropic
import httpx
import httpx2
import openai
import pytest
from google.genai import errors as genai_errors

import apirec

from .plugin_helpers import setup

MESSAGES = [{"role": "user", "content": "llamas eat grass"}]
CHAT = "openai.resources.chat.completions.Completions.create"
ACHAT = "openai.resources.chat.completions.AsyncCompletions.create"


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.json"))


def stored(directory: Path) -> list[dict]:
    return [json.loads((directory / name).read_text()) for name in files(directory)]


def ask_with_retries(client, model="busy-twice", attempts=3):
    """An application's retry loop around the SDK (tenacity, backoff...): the SDK's own
    retries are off, each attempt is a call of the patched method."""
    for attempt in range(attempts):
        try:
            return client.chat.completions.create(model=model, messages=MESSAGES)
        except (openai.RateLimitError, openai.APIConnectionError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


async def aask_with_retries(client, model="busy-twice", attempts=3):
    for attempt in range(attempts):
        try:
            return await client.chat.completions.create(model=model, messages=MESSAGES)
        except openai.RateLimitError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


# -- a retry loop with the real SDK -----------------------------------------------------------


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_a_retry_loop_records_only_its_final_answer_and_replays_it(
    tmp_path, openai_server, make_client, closed_url, store
):
    with apirec.recording(tmp_path, mode="record", store=store) as rec:
        rec.patch(CHAT)
        recorded = ask_with_retries(make_client(openai_server.base_url, is_async=False))
    assert openai_server.requests == 3  # two 429s, then the answer
    assert rec.stats.recorded == 1
    assert rec.stats.errors_not_stored == 2
    if store == "json":
        (only,) = stored(tmp_path)
        assert only["response"]["is_streaming"] is False
        assert "is_exception" not in only["response"]
    openai_server.stop()

    with apirec.recording(tmp_path, mode="replay", store=store) as rec:
        rec.patch(CHAT)
        replayed = ask_with_retries(make_client(closed_url, is_async=False), attempts=1)
    assert replayed == recorded
    assert replayed.choices[0].message.content == "You said: llamas eat grass"
    assert rec.stats.replayed == 1


async def test_an_async_retry_loop_records_only_its_final_answer(
    tmp_path, openai_server, make_client, closed_url
):
    async with apirec.recording(tmp_path, mode="record-if-missing") as rec:
        rec.patch(ACHAT)
        recorded = await aask_with_retries(make_client(openai_server.base_url))
    assert len(files(tmp_path)) == 1
    assert rec.stats.errors_not_stored == 2
    async with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(ACHAT)
        assert await aask_with_retries(make_client(closed_url), attempts=1) == recorded


def test_a_connection_error_of_the_sdk_is_not_stored(tmp_path, make_client, closed_url):
    with (
        pytest.warns(apirec.errors.TransientErrorWarning, match="APIConnectionError"),
        apirec.recording(tmp_path, mode="record") as rec,
    ):
        rec.patch(CHAT)
        with pytest.raises(openai.APIConnectionError):
            ask_with_retries(make_client(closed_url, is_async=False), attempts=2)
    assert files(tmp_path) == []
    assert rec.stats.errors_not_stored == 2


def test_a_bad_request_is_stored_and_replayed(tmp_path, openai_server, make_client, closed_url):
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(CHAT)
        with pytest.raises(openai.BadRequestError):
            ask_with_retries(make_client(openai_server.base_url, is_async=False), "bad-model")
    (only,) = stored(tmp_path)
    assert only["response"]["is_exception"] is True
    assert rec.stats.errors_not_stored == 0
    with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(CHAT)
        with pytest.raises(openai.BadRequestError) as info:
            ask_with_retries(make_client(closed_url, is_async=False), "bad-model")
    assert info.value.status_code == 400


def test_store_errors_all_stores_the_429s_and_replays_the_whole_sequence(
    tmp_path, openai_server, make_client, closed_url
):
    with apirec.recording(tmp_path, mode="record", store_errors="all") as rec:
        rec.patch(CHAT)
        recorded = ask_with_retries(make_client(openai_server.base_url, is_async=False))
    names = files(tmp_path)
    assert len(names) == 3
    kinds = [e["response"].get("is_exception", False) for e in stored(tmp_path)]
    assert sorted(kinds) == [False, True, True]
    openai_server.stop()
    with apirec.recording(tmp_path, mode="replay") as rec:
        rec.patch(CHAT)
        client = make_client(closed_url, is_async=False)
        with pytest.raises(openai.RateLimitError):
            ask_with_retries(client, attempts=2)
        assert ask_with_retries(client, attempts=1) == recorded


def test_store_errors_takes_a_callable_that_decides_per_error(tmp_path, openai_server, make_client):
    seen = []

    def store_only_bad_requests(error):
        seen.append(type(error).__name__)
        return isinstance(error, openai.BadRequestError)

    with apirec.recording(tmp_path, mode="record", store_errors=store_only_bad_requests) as rec:
        rec.patch(CHAT)
        client = make_client(openai_server.base_url, is_async=False)
        ask_with_retries(client)
        with pytest.raises(openai.BadRequestError):
            ask_with_retries(client, "bad-model")
    assert seen == ["RateLimitError", "RateLimitError", "BadRequestError"]
    kinds = [e["response"].get("is_exception", False) for e in stored(tmp_path)]
    assert sorted(kinds) == [False, True]


# -- per function ---------------------------------------------------------------------------


class Busy(Exception):
    def __init__(self, status_code):
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


def flaky(outcomes):
    """A function whose calls raise or return the next of ``outcomes``."""
    it = iter(outcomes)

    def call(x):
        outcome = next(it)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return call


def test_the_functions_option_wins_over_the_recordings(tmp_path):
    keep = apirec.record(name="keep", store_errors="all")(flaky([Busy(503), "ok"]))
    skip = apirec.record(name="skip", store_errors="permanent")(flaky([Busy(503), "ok"]))
    default = apirec.record(name="default")(flaky([Busy(503), "ok"]))
    with apirec.recording(tmp_path, mode="record", store_errors="all") as rec:
        for f in (keep, skip, default):
            with pytest.raises(Busy):
                f(1)
            assert f(1) == "ok"
    by_function: dict[str, int] = {}
    for entry in stored(tmp_path):
        name = entry["request"]["function"]
        by_function[name] = by_function.get(name, 0) + 1
    assert by_function == {"keep": 2, "skip": 1, "default": 2}
    assert rec.stats.errors_not_stored == 1


def test_patch_takes_store_errors(tmp_path, openai_server, make_client):
    with apirec.recording(tmp_path, mode="record") as rec:
        rec.patch(CHAT, store_errors="all")
        ask_with_retries(make_client(openai_server.base_url, is_async=False))
    assert len(files(tmp_path)) == 3
    with (
        apirec.recording(tmp_path / "b", mode="record"),
        apirec.patch(CHAT, store_errors=lambda e: False),
        pytest.raises(openai.BadRequestError),
    ):
        ask_with_retries(make_client(openai_server.base_url, is_async=False), "bad-model")
    assert files(tmp_path / "b") == []


@pytest.mark.parametrize("bad", ["none", "transient", 3, None])
def test_an_unknown_store_errors_value_is_refused(tmp_path, bad):
    with pytest.raises((ValueError, TypeError), match="store_errors"):
        apirec.recording(tmp_path, store_errors=bad)
    if bad is not None:
        with pytest.raises((ValueError, TypeError), match="store_errors"):
            apirec.record(store_errors=bad)(lambda: 1)


# -- which errors are transient ----------------------------------------------------------------


class WithStatus(Exception):
    def __init__(self, **attributes):
        super().__init__("failed")
        self.__dict__.update(attributes)


class Response:
    def __init__(self, **attributes):
        self.__dict__.update(attributes)


class APIConnectionError(Exception):
    """Another SDK's class of the same name (Stainless SDKs: groq, together, anthropic...)."""


class APITimeoutError(APIConnectionError):
    pass


class ServiceDown(RuntimeError):
    @property
    def response(self):
        raise RuntimeError("no response read")  # a property that fails is not transient


REQUEST = httpx.Request("POST", "http://127.0.0.1/v1")
TRANSIENT = [
    TimeoutError("timed out"),
    ConnectionRefusedError(111, "refused"),
    ConnectionResetError("reset"),
    WithStatus(status_code=429),
    WithStatus(status_code=http.HTTPStatus.SERVICE_UNAVAILABLE),
    WithStatus(status=408),
    WithStatus(code=409),
    WithStatus(code="502"),
    WithStatus(response=Response(status_code=500)),
    WithStatus(response=Response(status=599)),
    WithStatus(status_code=None, response=Response(status_code=504)),
    APIConnectionError("no route"),
    APITimeoutError("slow"),
    httpx.ConnectError("refused", request=REQUEST),
    httpx.ReadTimeout("slow", request=REQUEST),
    httpx.RemoteProtocolError("peer closed", request=REQUEST),
    openai.APIConnectionError(request=REQUEST),
    openai.APITimeoutError(request=REQUEST),
    httpx2.ConnectError("refused"),
    anthropic.APITimeoutError(request=httpx2.Request("POST", "http://127.0.0.1/v1")),
    anthropic.RateLimitError(
        "slow down",
        response=httpx2.Response(429, request=httpx2.Request("POST", "http://127.0.0.1/v1")),
        body=None,
    ),
    genai_errors.ServerError(503, {"error": {"code": 503, "status": "UNAVAILABLE"}}),
    # error events in the middle of a stream whose HTTP status was 200
    openai.APIError("overloaded", REQUEST, body={"message": "x", "type": "server_error"}),
    anthropic.APIStatusError(
        "Overloaded",
        response=httpx2.Response(200, request=httpx2.Request("POST", "http://127.0.0.1/v1")),
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    ),
    # google-genai: ``status`` is a word, ``code`` the HTTP status
    genai_errors.ClientError(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}),
]
PERMANENT = [
    ValueError("bad value"),
    KeyError("missing"),
    WithStatus(status_code=400),
    WithStatus(status_code=404),
    WithStatus(status=True),  # a bool is not a status
    WithStatus(code="rate_limit_exceeded"),  # openai's error code: text, not a status
    WithStatus(code=600),
    WithStatus(response=Response(status_code=401)),
    WithStatus(response=Response(status_code="soon")),
    ServiceDown("down"),
    openai.BadRequestError("bad", response=httpx.Response(400, request=REQUEST), body=None),
    genai_errors.ClientError(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}),
    openai.APIError("filtered", REQUEST, body={"message": "x", "type": "invalid_request_error"}),
    anthropic.APIStatusError(
        "blocked",
        response=httpx2.Response(200, request=httpx2.Request("POST", "http://127.0.0.1/v1")),
        body={"type": "error", "error": {"type": "invalid_request_error", "message": "no"}},
    ),
    WithStatus(status_code=200),  # a success status, no type: nothing says "try again"
]


@pytest.mark.parametrize("error", TRANSIENT, ids=lambda e: f"{type(e).__name__}-{e!s:.20}")
def test_transient_errors_are_not_stored(tmp_path, error):
    f = apirec.record(name="f")(flaky([error]))
    with (
        pytest.warns(apirec.errors.TransientErrorWarning, match="f\\(\\)"),  # its replay misses
        apirec.recording(tmp_path, mode="record-if-missing") as rec,
        pytest.raises(type(error)),
    ):
        f(1)
    assert files(tmp_path) == []
    assert rec.stats.errors_not_stored == 1


@pytest.mark.parametrize("error", PERMANENT, ids=lambda e: f"{type(e).__name__}-{e!s:.20}")
def test_other_errors_are_stored(tmp_path, error):
    f = apirec.record(name="f")(flaky([error]))
    with apirec.recording(tmp_path, mode="record-if-missing") as rec, pytest.raises(type(error)):
        f(1)
    assert len(files(tmp_path)) == 1
    assert rec.stats.errors_not_stored == 0


@pytest.mark.parametrize("policy", ["all", lambda e: True])
def test_network_blocked_is_never_stored(tmp_path, policy):
    def blocked(x):
        raise apirec.NetworkBlocked("blocked: example.com:443")

    f = apirec.record(name="f")(blocked)
    with (
        apirec.recording(tmp_path, mode="record", store_errors=policy),
        pytest.raises(apirec.NetworkBlocked),
    ):
        f(1)
    assert files(tmp_path) == []


def test_an_sdk_error_caused_by_network_blocked_is_never_stored(tmp_path):
    def wrapped(x):
        try:
            raise apirec.NetworkBlocked("blocked: example.com:443")
        except apirec.NetworkBlocked as e:
            raise RuntimeError("the SDK wraps it") from e

    f = apirec.record(name="f")(wrapped)
    with apirec.recording(tmp_path, mode="record", store_errors="all"), pytest.raises(RuntimeError):
        f(1)
    assert files(tmp_path) == []


# -- the order of a sequence -------------------------------------------------------------------


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_unstored_errors_leave_no_hole_in_a_sequence(tmp_path, store):
    outcomes = ["first", Busy(429), Busy(503), "second", TimeoutError(), "third"]
    f = apirec.record(name="f")(flaky(outcomes))
    with apirec.recording(tmp_path, mode="record", store=store):
        got = []
        for _ in outcomes:
            with contextlib.suppress(Busy, TimeoutError):
                got.append(f(1))
    assert got == ["first", "second", "third"]
    if store == "json":
        assert len(files(tmp_path)) == 3
    with apirec.recording(tmp_path, mode="replay", store=store) as rec:
        assert [f(1), f(1), f(1)] == ["first", "second", "third"]
    assert rec.stats.replayed == 3


async def test_async_functions_skip_transient_errors_too(tmp_path):
    outcomes = iter([TimeoutError(), "answer"])

    @apirec.record(name="af")
    async def af(x):
        outcome = next(outcomes)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async with apirec.recording(tmp_path, mode="record") as rec:
        with pytest.raises(TimeoutError):
            await af(1)
        assert await af(1) == "answer"
    assert rec.stats.errors_not_stored == 1
    async with apirec.recording(tmp_path, mode="replay"):
        assert await af(1) == "answer"


# -- pytest ------------------------------------------------------------------------------------


def test_the_pytest_summary_counts_errors_not_stored_and_the_marker_takes_store_errors(
    pytester,
):
    setup(pytester)
    pytester.makepyfile(
        test_busy="""
        import apirec, pytest

        state = {"left": 2}

        class Busy(Exception):
            status_code = 429

        @apirec.record(name="busy")
        def busy(x):
            if state["left"]:
                state["left"] -= 1
                raise Busy()
            return x

        def retried(x):
            for _ in range(3):
                try:
                    return busy(x)
                except Busy:
                    pass

        @pytest.mark.apirec
        def test_skipped():
            state["left"] = 2
            assert retried(1) == 1

        @pytest.mark.apirec(store_errors="all")
        def test_kept():
            state["left"] = 2
            assert retried(2) == 2
        """
    )
    result = pytester.runpytest("--apirec-mode=record")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["*apirec: 0 replayed, 4 recorded, *2 transient errors not stored*"]
    )
    assert len(list((pytester.path / "recordings").glob("*.json"))) == 4
    result = pytester.runpytest("--apirec-mode=replay")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*apirec: 4 replayed, 0 recorded*"])


def test_a_test_whose_calls_all_failed_transiently_warns_that_it_stored_nothing(pytester):
    setup(pytester)
    pytester.makepyfile(
        test_down="""
        import apirec, pytest

        class Down(Exception):
            status_code = 503

        @apirec.record(name="down")
        def down(x):
            raise Down()

        @pytest.mark.apirec
        def test_falls_back():
            try:
                down(1)
            except Down:
                pass  # the application's fallback

        @pytest.mark.apirec(store_errors="all")
        def test_stores_it():
            with pytest.raises(Down):
                down(2)
        """
    )
    result = pytester.runpytest("--apirec-mode=record", "-W", "default")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(
        [
            "*NothingRecordedWarning: apirec: test_down.py::test_falls_back stored nothing: "
            "its 1 call that failed raised a transient error, which is not stored*"
            '*@pytest.mark.apirec(store_errors="all")*',
            "*1 transient error not stored; 1 test recorded nothing*",
        ]
    )


def test_a_store_errors_callable_that_fails_is_loud_and_stores_nothing(tmp_path):
    def judge(error):
        raise KeyError("oops")

    f = apirec.record(name="f", store_errors=judge)(flaky([ValueError("bad"), "ok"]))
    with apirec.recording(tmp_path, mode="record"):
        with pytest.raises(KeyError) as info:
            f(1)
        assert f(1) == "ok"
    assert isinstance(info.value.__context__, ValueError)
    assert (
        "store_errors= callable of f() while deciding whether to store ValueError('bad')"
        in (info.value.__notes__[0])
    )
    with apirec.recording(tmp_path, mode="replay"):
        assert f(1) == "ok"  # the failed call gave up its place
