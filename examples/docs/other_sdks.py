"""docs/integrations.md's ollama, google.genai and tavily examples, complete: each records
against the stand-in API, then replays with it stopped and gets the same answers back."""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile

import tavily
from _services import stand_in
from google import genai

import apirec
from apirec import integrations

msgs = [{"role": "user", "content": "What is the weather in Paris?"}]
SEARCH_URL = {}  # the stand-in's address, the same while recording and replaying


def get_weather(city: str) -> str:
    """The weather in a city (a tool the model may call)."""
    return f"Sunny in {city}"


def with_ollama() -> list[str]:
    import ollama  # after the stand-in set OLLAMA_HOST: its module-level client reads it

    seen = []
    with apirec.recording("tests/recordings", mode="record-if-missing") as rec:
        integrations.patch(rec, "ollama")
        reply = ollama.chat(model="llama3.2", messages=msgs, tools=[get_weather])
        for part in ollama.chat(model="llama3.2", messages=msgs, stream=True):
            print(part.message.content, end="")
            seen.append(part.message.content)
    print()
    return [reply.message.content, *seen]


async def with_genai() -> str | None:
    async with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "google.genai")
        answer = await genai.Client().aio.models.generate_content(
            model="gemini-2.5-flash", contents="Weather in Paris?", config={"tools": [get_weather]}
        )
    return answer.text


def with_tavily() -> list[str]:
    # here the client goes to the stand-in; yours goes to api.tavily.com
    TavilyClient = functools.partial(tavily.TavilyClient, api_base_url=SEARCH_URL["url"])
    with apirec.recording("tests/recordings") as rec:
        integrations.patch(rec, "tavily")
        results = TavilyClient().search("llama diet", max_results=3)
    return [hit["url"] for hit in results["results"]]


def run_all() -> list[object]:
    return [with_ollama(), asyncio.run(with_genai()), with_tavily()]


def main() -> None:
    with stand_in() as url:
        SEARCH_URL["url"] = url
        os.environ["APIREC_MODE"] = "record"
        recorded = run_all()
    os.environ["APIREC_MODE"] = "replay"  # the stand-in is gone, and so are the keys
    replayed = run_all()
    assert replayed == recorded, (recorded, replayed)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        main()
    print("ollama, google.genai and tavily: recorded, then replayed offline")
