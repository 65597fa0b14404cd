"""Only what the service said is stored as an integration's error (DESIGN §13): an error the
SDK raised before any answer (a bad argument, a validation error while building the request)
reaches the caller, is not stored, and gives up the call's place; ``@record`` functions keep
storing their errors, which are their answers."""

from __future__ import annotations

import ollama
import openai
import pydantic
import pytest
from google import genai
from google.genai import types

import apirec
from apirec.integrations import patch
from tests.genai_server import GenAIServer
from tests.ollama_server import OllamaServer

HI = [{"role": "user", "content": "name a llama"}]


@pytest.fixture
def fakes(openai_server):
    ollama_fake, genai_fake = OllamaServer().start(), GenAIServer().start()
    yield {"openai": openai_server, "ollama": ollama_fake, "google.genai": genai_fake}
    ollama_fake.stop()
    genai_fake.stop()


@pytest.fixture
def clients(fakes):
    made = {
        "openai": openai.OpenAI(base_url=fakes["openai"].base_url, api_key="k", max_retries=0),
        "ollama": ollama.Client(host=fakes["ollama"].url),
        "google.genai": genai.Client(
            api_key="k",
            http_options=types.HttpOptions(
                base_url=fakes["google.genai"].url,
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        ),
    }
    yield made
    for client in made.values():
        client.close()


# (sdk, a call the SDK refuses before sending anything, the error it raises)
CLIENT_SIDE = {
    "openai-unencodable-argument": (
        "openai",
        lambda c: c.chat.completions.create(model="m", messages=HI, temperature={1.5}),
        TypeError,
    ),
    "ollama-invalid-message": (
        "ollama",
        lambda c: c.chat(model="m", messages=[{"role": "user", "content": "x", "images": [5]}]),
        pydantic.ValidationError,
    ),
    "genai-invalid-contents": (
        "google.genai",
        lambda c: c.models.generate_content(model="m", contents=[{"parts": [{"text": 5}]}]),
        pydantic.ValidationError,
    ),
}


@pytest.mark.parametrize("case", sorted(CLIENT_SIDE))
def test_an_error_raised_before_the_service_answered_is_not_stored(case, fakes, clients, store_dir):
    sdk, call, raised = CLIENT_SIDE[case]
    served = fakes[sdk].requests
    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, sdk)
        with pytest.raises(raised):
            call(clients[sdk])
    assert fakes[sdk].requests == served  # the service never saw it
    assert list(store_dir.rglob("*.json")) == []
    assert rec.stats.recorded == 0
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, sdk)
        with pytest.raises(apirec.RecordingNotFound):  # not the error, replayed as an answer
            call(clients[sdk])


def test_the_call_gives_up_its_place_to_the_next_identical_one(fakes, clients, store_dir):
    # X-Stainless-* headers are not keyed: both calls have one key; the first one's header
    # value (not a string) fails while the SDK builds the request
    def ask(value):
        return clients["openai"].chat.completions.create(
            model="m", messages=HI, extra_headers={"X-Stainless-Trace": value}
        )

    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        with pytest.raises(TypeError):
            ask(5)
        live = ask("5")
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        assert ask("5") == live  # the answer took the first place
    assert rec.stats.replayed == 1


def test_the_services_own_errors_are_still_stored(fakes, clients, store_dir):
    def ask():
        return clients["openai"].chat.completions.create(model="bad-model", messages=HI)

    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        with pytest.raises(openai.BadRequestError):
            ask()
    served = fakes["openai"].requests
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        with pytest.raises(openai.BadRequestError) as error:
            ask()
    assert error.value.status_code == 400 and fakes["openai"].requests == served


def test_a_recorded_function_keeps_storing_its_errors(store_dir):
    calls = []

    @apirec.record(name="checked")
    def checked(value):
        calls.append(value)
        raise TypeError(f"not a number: {value!r}")

    with apirec.recording(store_dir, mode="record"), pytest.raises(TypeError):
        checked("x")
    with apirec.recording(store_dir, mode="replay"), pytest.raises(TypeError) as error:
        checked("x")
    assert str(error.value) == "not a number: 'x'" and calls == ["x"]


class _Number(pydantic.BaseModel):
    answer: int  # the fake answers words: its reply fails this model


class _Words(pydantic.BaseModel):
    answer: str


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_reply_that_fails_the_parse_model_is_the_services_answer(
    openai_server, closed_url, store_dir, is_async
):
    """The service answered 200; the SDK's ValidationError while parsing that reply is stored
    and raised again on replay, before and after the method has learnt its fast lane."""

    async def ask(url, model):
        cls = openai.AsyncOpenAI if is_async else openai.OpenAI
        client = cls(base_url=url, api_key="k", max_retries=0)
        try:
            result = client.chat.completions.parse(model="m", messages=HI, response_format=model)
            return await result if is_async else result
        except Exception as error:
            return error
        finally:
            closing = client.close()
            if is_async:
                await closing

    with apirec.recording(store_dir, mode="record") as rec:
        patch(rec, "openai")
        live = [await ask(openai_server.base_url, m) for m in (_Number, _Words, _Number)]
    assert isinstance(live[0], pydantic.ValidationError)
    assert isinstance(live[2], pydantic.ValidationError)
    assert rec.stats.recorded == 3
    with apirec.recording(store_dir, mode="replay") as rec:
        patch(rec, "openai")
        replayed = [await ask(closed_url, m) for m in (_Number, _Words, _Number)]
    for before, after in zip(live[::2], replayed[::2], strict=True):
        assert isinstance(after, Exception) and not isinstance(after, apirec.RecordingNotFound)
        assert "ValidationError" in f"{type(after).__name__} {after}"
        assert "Input should be a valid integer" in str(after)
        assert "Input should be a valid integer" in str(before)
    assert replayed[1].choices[0].message.parsed == live[1].choices[0].message.parsed
