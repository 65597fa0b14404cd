"""A local stand-in for the OpenAI, Anthropic and Tavily APIs, to record the examples without keys.

The examples' committed recordings were made against this server, since apirec's CI has no API
keys. With real keys you record against the real services with the same command and no
environment variables. Run it, then record (see each example's README):

    python examples/stand_ins/api.py            # serves http://127.0.0.1:8765

Answers are fixed, but shaped like the real ones: the chat model calls the first tool it is
given once, then answers from the tool's result; the Anthropic model streams a short answer
word by word; the search returns three results.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PORT = 8765
USAGE = {"prompt_tokens": 41, "completion_tokens": 12, "total_tokens": 53}


def _last(messages: list[dict[str, Any]], role: str) -> dict[str, Any] | None:
    return next((m for m in reversed(messages) if m.get("role") == role), None)


def _text(content: Any) -> str:
    if isinstance(content, list):  # content blocks
        return " ".join(str(block.get("text", "")) for block in content)
    return str(content or "")


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    messages = body["messages"]
    tools = body.get("tools") or []
    if tools and messages[-1].get("role") != "tool":
        tool = tools[0]["function"]
        argument = next(iter(tool.get("parameters", {}).get("properties", {})), "query")
        question = _text((_last(messages, "user") or {}).get("content"))
        arguments = json.dumps({argument: question})
        function = {"name": tool["name"], "arguments": arguments}
        call = {"id": "call_1", "type": "function", "function": function}
        message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    else:
        found = _text((_last(messages, "tool") or {}).get("content"))
        message = {"role": "assistant", "content": f"From what I found: {found[:160]}"}
        finish = "stop"
    choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
    return JSONResponse(
        {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": 1_765_000_000,
            "model": body["model"],
            "choices": [choice],
            "usage": USAGE,
        }
    )


async def search(request: Request) -> Response:
    body = await request.json()
    query = body["query"]
    results = [
        {
            "title": f"{query} ({source})",
            "url": f"https://{source}/search?q={i}",
            "content": f"{source} on {query}: the answer is {42 + i}.",
            "score": round(0.9 - i / 10, 2),
        }
        for i, source in enumerate(["example.org", "example.com", "example.net"])
    ]
    return JSONResponse({"query": query, "answer": None, "results": results})


def _event(data: dict[str, Any]) -> str:
    return f"event: {data['type']}\ndata: {json.dumps(data)}\n\n"


async def messages(request: Request) -> Response:
    body = await request.json()
    question = _text((_last(body["messages"], "user") or {}).get("content"))
    words = ["Short", " answer", " to", f" '{question}':", " it", " depends."]
    message = {
        "id": "msg_standin",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 0},
    }

    async def events() -> AsyncIterator[str]:
        yield _event({"type": "message_start", "message": message})
        block = {"type": "text", "text": ""}
        yield _event({"type": "content_block_start", "index": 0, "content_block": block})
        for word in words:
            delta = {"type": "text_delta", "text": word}
            yield _event({"type": "content_block_delta", "index": 0, "delta": delta})
        yield _event({"type": "content_block_stop", "index": 0})
        end = {"stop_reason": "end_turn", "stop_sequence": None}
        yield _event({"type": "message_delta", "delta": end, "usage": {"output_tokens": 6}})
        yield _event({"type": "message_stop"})

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/search", search, methods=["POST"]),
    ]
)

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else PORT
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
