"""docs/integrations.md's mistralai, cohere and httpx-fallback examples, complete: each records
against the stand-in API, then replays with it stopped and gets the same answers back."""

from __future__ import annotations

import functools
import os
import tempfile

import _weather_sdk as weather_sdk
from _services import stand_in
from mistralai.client import Mistral

import apirec
from apirec import integrations

messages = [{"role": "user", "content": "What is the weather in Paris?"}]


def with_mistral() -> list[object]:
    seen: list[object] = []
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "mistralai")
        client = Mistral()  # replay needs no MISTRAL_API_KEY
        reply = client.chat.complete(model="mistral-small-latest", messages=messages)
        with client.chat.stream(model="mistral-small-latest", messages=messages) as stream:
            for event in stream:
                print(event.data.choices[0].delta.content, end="")
                seen.append(event.data.choices[0].delta.content)
    print()
    return [reply.choices[0].message.content, *seen]


def with_cohere() -> list[object]:
    # imported after the stand-in set CO_API_URL: the clients' default base_url reads it
    import cohere

    seen: list[object] = []
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "cohere")
        co = cohere.ClientV2()  # replay needs no CO_API_KEY
        reply = co.chat(model="command-a-03-2025", messages=messages)
        for event in co.chat_stream(model="command-a-03-2025", messages=messages):
            if event.type == "content-delta":
                print(event.delta.message.content.text, end="")
                seen.append(event.delta.message.content.text)
    print()
    return [reply.message.content[0].text, *seen]


def with_httpx() -> dict[str, object]:
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "httpx")
        forecast = weather_sdk.Client().forecast("Paris")  # any client that sends with httpx
    return forecast


def run_all() -> list[object]:
    return [with_mistral(), with_cohere(), with_httpx()]


def main() -> None:
    global Mistral
    with stand_in() as url:
        # here the clients go to the stand-in, while recording and replaying (the URL is keyed
        # by the httpx fallback); yours go to the services
        Mistral = functools.partial(Mistral, server_url=url)
        weather_sdk.Client = functools.partial(weather_sdk.Client, base_url=url)
        os.environ["APIREC_MODE"] = "record"
        recorded = run_all()
    os.environ["APIREC_MODE"] = "replay"  # the stand-in is gone, and so are the keys
    replayed = run_all()
    assert replayed == recorded, (recorded, replayed)
    assert recorded[2] == {"city": "Paris", "forecast": "Sunny, 21 degrees.", "rain_mm": 0}


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        main()
    print("mistralai, cohere and the httpx fallback: recorded, then replayed offline")
