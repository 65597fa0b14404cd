"""A local stand-in for the OpenAI, Anthropic, Mistral, Cohere, Tavily, Ollama and Gemini APIs
(and a weather API), without keys.

The examples' committed recordings were made against this server, since apirec's CI has no API
keys. With real keys you record against the real services with the same command and no
environment variables. Run it, then record (see each example's README):

    python examples/stand_ins/api.py            # serves http://127.0.0.1:8765

Answers are fixed, but shaped like the real ones. The chat model calls the first tool it is
given once, then answers from the tool's result (without tools, from a few canned answers);
model ``no-such-model`` is a 400, and a prompt with "busy" in it is rate limited twice (429)
before its answer. The Anthropic model streams a short answer word by word; the search
returns three results. Mistral's chat is OpenAI's (the same route); Cohere's v2 chat answers a
canned sentence, streamed as Cohere's events; ``GET /v1/forecast?city=`` gives a forecast.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

PORT = 8765
# what the chat model knows without tools: a word of the question -> the answer
KNOWN = {
    "rings": "Saturn: its rings are ice and rock.",
    "capital of france": "Paris.",
}
USAGE = {"prompt_tokens": 41, "completion_tokens": 12, "total_tokens": 53}


def _last(messages: list[dict[str, Any]], role: str) -> dict[str, Any] | None:
    return next((m for m in reversed(messages) if m.get("role") == role), None)


def _text(content: Any) -> str:
    if isinstance(content, list):  # content blocks
        return " ".join(str(block.get("text", "")) for block in content)
    return str(content or "")


BUSY: dict[str, int] = {}  # prompt -> 429s sent so far


def _error(status: int, message: str, code: str, kind: str) -> Response:
    error = {"message": message, "type": kind, "param": None, "code": code}
    return JSONResponse({"error": error}, status_code=status, headers={"retry-after": "0"})


async def chat_completions(request: Request) -> Response:
    body = await request.json()
    messages = body["messages"]
    prompt = _text((_last(messages, "user") or {}).get("content"))
    if body["model"] == "no-such-model":
        return _error(
            400,
            "The model `no-such-model` does not exist",
            "model_not_found",
            "invalid_request_error",
        )
    if "busy" in prompt and BUSY.get(prompt, 0) < 2:  # rate limited twice, then served
        BUSY[prompt] = BUSY.get(prompt, 0) + 1
        return _error(429, "Rate limit reached", "rate_limit_exceeded", "requests")
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
    elif messages[-1].get("role") == "tool":
        found = _text(messages[-1].get("content"))
        message = {"role": "assistant", "content": f"From what I found: {found[:160]}"}
        finish = "stop"
    else:
        question = _text((_last(messages, "user") or {}).get("content")).lower()
        known = (answer for word, answer in KNOWN.items() if word in question)
        message = {"role": "assistant", "content": next(known, "I don't know.")}
        finish = "stop"
    if body.get("stream"):
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamingResponse(
            _chunks(body["model"], message, finish, usage), media_type="text/event-stream"
        )
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


async def _chunks(
    model: str, message: dict[str, Any], finish: str, usage: bool
) -> AsyncIterator[str]:
    """OpenAI's chunks; with ``stream_options={"include_usage": True}``, as OpenAI does: a
    null ``usage`` in each, then a last chunk with no choices and the usage."""
    head: dict[str, Any] = {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": 1_765_000_000,
        "model": model,
        **({"usage": None} if usage else {}),
    }
    words = (message.get("content") or "").split(" ")
    for n, word in enumerate(words):
        delta = {"role": "assistant", "content": word if n == 0 else " " + word}
        choice = {"index": 0, "delta": delta, "finish_reason": None}
        yield f"data: {json.dumps({**head, 'choices': [choice]})}\n\n"
    last = {"index": 0, "delta": {}, "finish_reason": finish}
    yield f"data: {json.dumps({**head, 'choices': [last]})}\n\n"
    if usage:
        yield f"data: {json.dumps({**head, 'choices': [], 'usage': USAGE})}\n\n"
    yield "data: [DONE]\n\n"


async def embeddings(request: Request) -> Response:
    body = await request.json()
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = [
        {"object": "embedding", "index": i, "embedding": [len(text) / 10, 0.5, -0.25]}
        for i, text in enumerate(inputs)
    ]
    usage = {"prompt_tokens": 3, "total_tokens": 3}
    return JSONResponse({"object": "list", "data": data, "model": body["model"], "usage": usage})


async def ollama_chat(request: Request) -> Response:
    body = await request.json()
    words = ["It", " is", " sunny", " in", " Paris."]
    head = {"model": body["model"], "created_at": "2026-12-01T10:00:00Z"}
    if not body.get("stream", True):
        message = {"role": "assistant", "content": "".join(words)}
        return JSONResponse({**head, "message": message, "done": True, "done_reason": "stop"})

    async def lines() -> AsyncIterator[str]:
        for word in words:
            part = {**head, "message": {"role": "assistant", "content": word}, "done": False}
            yield json.dumps(part) + "\n"
        end = {**head, "message": {"role": "assistant", "content": ""}, "done": True}
        yield json.dumps({**end, "done_reason": "stop"}) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


async def generate_content(request: Request) -> Response:
    await request.json()
    part = {"text": "Sunny, 21 degrees."}
    candidate = {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}
    usage = {"promptTokenCount": 5, "candidatesTokenCount": 4, "totalTokenCount": 9}
    return JSONResponse({"candidates": [candidate], "usageMetadata": usage})


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


async def cohere_chat(request: Request) -> Response:
    body = await request.json()
    words = ["It", " is", " sunny", " in", " Paris."]
    usage = {"billed_units": {"input_tokens": 9, "output_tokens": 5}}
    if not body.get("stream"):
        message = {"role": "assistant", "content": [{"type": "text", "text": "".join(words)}]}
        answer = {"id": "c-standin", "finish_reason": "COMPLETE", "message": message}
        return JSONResponse({**answer, "usage": usage})

    async def events() -> AsyncIterator[str]:
        start = {"message": {"role": "assistant", "content": []}}
        yield _event({"type": "message-start", "id": "c-standin", "delta": start})
        for word in words:
            delta = {"message": {"content": {"text": word}}}
            yield _event({"type": "content-delta", "index": 0, "delta": delta})
        end = {"finish_reason": "COMPLETE", "usage": usage}
        yield _event({"type": "message-end", "delta": end})

    return StreamingResponse(events(), media_type="text/event-stream")


async def forecast(request: Request) -> Response:
    city = request.query_params["city"]
    return JSONResponse({"city": city, "forecast": "Sunny, 21 degrees.", "rain_mm": 0})


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/api/chat", ollama_chat, methods=["POST"]),
        Route("/{version}/models/{model}:generateContent", generate_content, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/search", search, methods=["POST"]),
        Route("/v2/chat", cohere_chat, methods=["POST"]),
        Route("/v1/forecast", forecast, methods=["GET"]),
    ]
)

if __name__ == "__main__":
    # Bound and listening before it says so, so a client can connect as soon as it reads the
    # line; port 0 takes a free one and the line names it (a port probed free beforehand can be
    # taken by another process before the server binds it).
    listener = socket.create_server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else PORT))
    port = listener.getsockname()[1]
    print(f"stand-in API serving http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
