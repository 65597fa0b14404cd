"""A small research agent: an OpenAI chat model that may call a web-search tool (Tavily)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openai import AsyncOpenAI
from tavily import AsyncTavilyClient

SEARCH_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "web_search",
        "description": "Search the web; returns titles, URLs and snippets.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string"}},
            "required": ["query"],
        },
    },
}


@dataclass
class Answer:
    text: str
    sources: list[str] = field(default_factory=list)  # the URLs the model was shown


async def ask(
    question: str, *, llm: AsyncOpenAI, search: AsyncTavilyClient, model: str = "gpt-4o-mini"
) -> Answer:
    """Answer ``question``, searching the web when the model asks for it."""
    sources: list[str] = []
    messages: list[Any] = [
        {"role": "system", "content": "Answer briefly. Search when you need facts."},
        {"role": "user", "content": question},
    ]
    for _ in range(4):  # a model that keeps calling tools gets cut off
        reply = await llm.chat.completions.create(
            model=model, messages=messages, tools=[SEARCH_TOOL], temperature=0
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            return Answer(message.content or "", sources)
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            query = json.loads(call.function.arguments)["query"]
            found = await search.search(query, max_results=3)
            snippets = [
                {"title": r["title"], "url": r["url"], "content": r["content"]}
                for r in found["results"]
            ]
            sources += [snippet["url"] for snippet in snippets]
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(snippets)}
            )
    raise RuntimeError("the model kept calling tools")
