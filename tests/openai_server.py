"""A small OpenAI-compatible HTTP server on 127.0.0.1, for tests with the real openai SDK.

Starlette app served by uvicorn in a thread. Deterministic answers:

- ``POST /v1/chat/completions``: echoes the last user message word by word ("You said: ...");
  with ``tools`` it calls the first tool with ``{"query": <message>}``; ``stream=true`` sends
  the same as server-sent events, one chunk per word (and a usage chunk when asked).
  Model ``"bad-model"`` gets a 400 with an OpenAI error body; model ``"busy-twice"`` gets a
  429 (rate limited, with ``retry-after: 0``) for the first two requests with a given last user
  message, then the answer; model ``"rate-limited"`` always gets a 429 with ``retry-after: 0``,
  a request id and the private headers; model ``"breaks-midway"`` streams
  two chunks, then an error event that the request caused (content filtered: not transient);
  models ``"cut-once"`` and ``"overloaded-once"``, the first time per last user message, stream
  two chunks and then cut the connection (no end of the chunked body) or send a
  ``server_error`` event, and stream the whole answer after that; model ``"gated"`` streams
  its first chunk, then waits for ``gate`` to be set before sending the rest (``sent`` counts
  the chunks sent); models
  ``"echo-key"`` and ``"echo-key-error"`` echo the caller's API key in the answer (or in a
  401 error) and in a response header, as careless services do; streamed, in 8-character
  chunks with the last user message after it, so each secret is cut across chunks.
- ``POST /v1/completions``: the prompt back (legacy completions), streamed word by word too.
- ``POST /v1/embeddings``: one vector of 8 floats per input, derived from the text.
- ``GET /v1/models``: two models.
- ``POST /v1/responses``: the Responses API, the input back ("You said: ..."), streamed as
  the events the ``responses.stream()`` helper reads; JSON ``{"answer": ...}`` when asked for
  a JSON schema (``.parse()``), as chat completions do with a ``response_format``.
- ``POST /v1/audio/speech``: binary "audio", the input's bytes after an ``ID3`` tag.
- ``POST /v1/files``: an upload (multipart); the file object, its id from the file's content.
- ``/openai/v1/...``: the same, where groq's SDK sends them.

``change`` alters what chat completions answer from then on, as a provider's API may change
under a recording (for ``--apirec-mode=compare``): ``"text"`` (other words: "You wrote: ..."),
``"added"`` (a new field, ``system_fingerprint``), ``"removed"`` (no ``usage``; in streams no
``created``), ``"retyped"`` (``created`` a string); each chunk of a stream too.

``requests`` counts the requests served, so tests can show replay never reached it. Answers
carry a request id and private headers (a cookie, organisation and project names) that
recordings must not keep.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CREATED = 1_700_000_000
BAD_REQUEST = {
    "error": {
        "message": "The model `bad-model` does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}

RATE_LIMITED = {
    "error": {
        "message": "Rate limit reached, please try again",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
}

# errors sent as an event in the middle of a stream: one the request caused, one of the service
FILTERED = {
    "message": "The response was filtered by the content policy",
    "type": "invalid_request_error",
    "param": None,
    "code": "content_filter",
}
OVERLOADED = {"message": "upstream overloaded", "type": "server_error", "param": None, "code": None}


def reply_words(messages: list[dict[str, Any]]) -> list[str]:
    last = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return ["You", " said:", *(" " + w for w in str(last).split())]


def _tool_call(tools: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return {
        "id": "call_0",
        "type": "function",
        "function": {
            "name": tools[0]["function"]["name"],
            "arguments": json.dumps({"query": text}),
        },
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }


def _sse(data: Any, event: str | None = None) -> bytes:
    named = f"event: {event}\n" if event else ""
    return f"{named}data: {json.dumps(data)}\n\n".encode()


PRIVATE_HEADERS = {
    "set-cookie": "session=cookie-secret-1",
    "openai-organization": "org-secret-2",
    "openai-project": "proj-secret-3",
}


def headers(n: int) -> dict[str, str]:
    return {"x-request-id": f"req_{n}", **PRIVATE_HEADERS}


def _input_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(next((m["content"] for m in reversed(value) if m["role"] == "user"), ""))


def _response(model: str, status: str, text: str | None) -> dict[str, Any]:
    output = [] if text is None else [_message_item("completed", text)]
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": CREATED,
        "model": model,
        "status": status,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def _message_item(status: str, text: str | None) -> dict[str, Any]:
    content = [] if text is None else [_text_part(text)]
    return {"id": "msg_1", "type": "message", "role": "assistant", "status": status,
            "content": content}  # fmt: skip


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def _response_events(model: str, words: list[str]) -> list[dict[str, Any]]:
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    text = "".join(words)
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response(model, "in_progress", None)},
        {"type": "response.output_item.added", "output_index": 0,
         "item": _message_item("in_progress", None)},
        {"type": "response.content_part.added", **where, "part": _text_part("")},
        *({"type": "response.output_text.delta", **where, "delta": w, "logprobs": []}
          for w in words),
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {"type": "response.content_part.done", **where, "part": _text_part(text)},
        {"type": "response.output_item.done", "output_index": 0,
         "item": _message_item("completed", text)},
        {"type": "response.completed", "response": _response(model, "completed", text)},
    ]  # fmt: skip
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


class OpenAIServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host  # "0.0.0.0": reachable at this machine's own address too
        self.requests = 0
        self.sent = 0
        self.gate = threading.Event()
        self.refused: dict[str, int] = {}  # model "busy-twice": 429s sent, per last message
        self.broken: dict[str, int] = {}  # "cut-once", "overloaded-once": streams broken, per text
        self.change: str | None = None  # what chat completions answer differently (see above)
        self.app = Starlette(routes=self.routes())
        config = uvicorn.Config(self.app, host=host, port=0, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.base_url = ""

    def routes(self) -> list[Route]:
        routes = [
            Route("/v1/chat/completions", self.chat, methods=["POST"]),
            Route("/v1/completions", self.completions, methods=["POST"]),
            Route("/v1/embeddings", self.embeddings, methods=["POST"]),
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/responses", self.responses, methods=["POST"]),
            Route("/v1/audio/speech", self.speech, methods=["POST"]),
            Route("/v1/files", self.files, methods=["POST"]),
        ]
        groq = [Route(f"/openai{r.path}", r.endpoint, methods=r.methods) for r in routes]
        return routes + groq

    def start(self) -> OpenAIServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test OpenAI server did not start")
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def chat(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        model = body["model"]
        if model == "bad-model":
            return JSONResponse(BAD_REQUEST, status_code=400, headers=headers(self.requests))
        if model == "rate-limited":
            limited = {"retry-after": "0", **headers(self.requests)}
            return JSONResponse(RATE_LIMITED, status_code=429, headers=limited)
        if model in ("echo-key", "echo-key-error"):  # a service that echoes the caller's key
            if body.get("stream"):
                return self._echo_key_stream(request, body)
            return self._echo_key(request, body, model)
        words = reply_words(body["messages"])
        if self.change == "text":
            words[1] = " wrote:"
        if model == "busy-twice":
            said = "".join(words)
            if self.refused.get(said, 0) < 2:
                self.refused[said] = self.refused.get(said, 0) + 1
                return JSONResponse(RATE_LIMITED, status_code=429, headers={"retry-after": "0"})
        tools = body.get("tools")
        if body.get("stream"):
            return StreamingResponse(
                self._changed_stream(self._stream(body, words)),
                media_type="text/event-stream",
                headers=headers(self.requests),
            )
        content = "".join(words)
        if (body.get("response_format") or {}).get("type") == "json_schema":
            content = json.dumps({"answer": _input_text(body["messages"])})
        message: dict[str, Any] = {"role": "assistant", "content": content}
        finish = "stop"
        if tools:
            message = {"role": "assistant", "content": None}
            message["tool_calls"] = [_tool_call(tools, "".join(words[2:]).strip())]
            finish = "tool_calls"
        return JSONResponse(
            self._changed(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": CREATED,
                    "model": model,
                    "choices": [
                        {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                    ],
                    "usage": {
                        "prompt_tokens": 5,
                        "completion_tokens": len(words),
                        "total_tokens": 9,
                    },
                }
            ),
            headers=headers(self.requests),  # x-request-id: the SDK's ``_request_id``
        )

    def _changed(self, answer: dict[str, Any]) -> dict[str, Any]:
        """A chat completion (or chunk) as the changed API answers it (``change``)."""
        if self.change == "added":
            answer["system_fingerprint"] = "fp_1"
        elif self.change == "removed":
            answer.pop("usage" if answer["object"] == "chat.completion" else "created", None)
        elif self.change == "retyped":
            answer["created"] = str(answer["created"])
        return answer

    async def _changed_stream(self, events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for event in events:
            data = event.removeprefix(b"data: ").strip()
            if self.change in ("added", "removed", "retyped") and data.startswith(b"{"):
                parsed = json.loads(data)
                if "object" in parsed:
                    event = _sse(self._changed(parsed))
            yield event

    def _echo_key(self, request: Request, body: dict[str, Any], model: str) -> Response:
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        echoed = {"x-echoed-key": key, **headers(self.requests)}
        if model == "echo-key-error":
            error = {
                "message": f"Incorrect API key provided: {key}. You can find your API key "
                "at https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
            return JSONResponse({"error": error}, status_code=401, headers=echoed)
        message = {"role": "assistant", "content": f"You called with {key}, right?"}
        choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
        answer = {"id": "chatcmpl-1", "object": "chat.completion", "created": CREATED,
                  "model": model, "choices": [choice]}  # fmt: skip
        return JSONResponse(answer, headers=echoed)

    def _echo_key_stream(self, request: Request, body: dict[str, Any]) -> Response:
        """The key and the last user message echoed in 8-character chunks, as a careless
        service may stream them: each secret is cut across chunks."""
        key = request.headers.get("authorization", "").removeprefix("Bearer ")
        text = (
            f"You called with {key}, right? You said:{''.join(reply_words(body['messages'])[2:])}"
        )
        model = body["model"]

        async def chunks() -> AsyncIterator[bytes]:
            yield _sse(_chunk(model, {"role": "assistant", "content": ""}))
            for start in range(0, len(text), 8):
                yield _sse(_chunk(model, {"content": text[start : start + 8]}))
            yield _sse(_chunk(model, {}, "stop"))
            yield b"data: [DONE]\n\n"

        return StreamingResponse(chunks(), media_type="text/event-stream")

    async def _stream(self, body: dict[str, Any], words: list[str]) -> AsyncIterator[bytes]:
        model = body["model"]
        self.sent += 1
        yield _sse(_chunk(model, {"role": "assistant", "content": ""}))
        if model == "gated" and not await asyncio.to_thread(self.gate.wait, 10):
            return  # never opened: the test has failed already; end the response
        if model == "breaks-midway":
            yield _sse(_chunk(model, {"content": words[0]}))
            yield _sse({"error": FILTERED})
            return
        said = "".join(words)
        if model in ("cut-once", "overloaded-once") and not self.broken.get(said):
            self.broken[said] = 1
            yield _sse(_chunk(model, {"content": words[0]}))
            if model == "cut-once":
                # uvicorn closes the connection mid-body: "peer closed connection without
                # sending complete message body" in the client
                raise ConnectionAbortedError("the test server cuts this stream")
            yield _sse({"error": OVERLOADED})
            return
        tools = body.get("tools")
        if tools:
            call = _tool_call(tools, "".join(words[2:]).strip())
            arguments = call["function"]["arguments"]
            call["function"]["arguments"] = ""
            yield _sse(_chunk(model, {"tool_calls": [{"index": 0, **call}]}))
            for start in range(0, len(arguments), 7):
                piece = {"index": 0, "function": {"arguments": arguments[start : start + 7]}}
                yield _sse(_chunk(model, {"tool_calls": [piece]}))
            yield _sse(_chunk(model, {}, "tool_calls"))
        else:
            for word in words:
                self.sent += 1
                yield _sse(_chunk(model, {"content": word}))
            yield _sse(_chunk(model, {}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 5, "completion_tokens": len(words), "total_tokens": 9}
            yield _sse({**_chunk(model, {}), "choices": [], "usage": usage})
        yield b"data: [DONE]\n\n"

    async def completions(self, request: Request) -> Response:
        """Legacy completions: the prompt's words back, one chunk per word when streamed."""
        self.requests += 1
        body = await request.json()
        words = [" " + w for w in str(body["prompt"]).split()]

        def completion(text: str, finish: str | None) -> dict[str, Any]:
            choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
            return {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": CREATED,
                "model": body["model"],
                "choices": [choice],
            }

        if body.get("stream"):

            async def chunks() -> AsyncIterator[bytes]:
                for word in words:
                    yield _sse(completion(word, None))
                yield _sse(completion("", "stop"))
                yield b"data: [DONE]\n\n"

            return StreamingResponse(chunks(), media_type="text/event-stream")
        return JSONResponse(completion("".join(words), "stop"))

    async def embeddings(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {
                "object": "embedding",
                "index": i,
                "embedding": [round(((len(text) * (k + 1)) % 17) / 17, 6) for k in range(8)],
            }
            for i, text in enumerate(inputs)
        ]
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
            }
        )

    async def models(self, request: Request) -> Response:
        self.requests += 1
        data = [
            {"id": name, "object": "model", "created": CREATED, "owned_by": "apirec-tests"}
            for name in ("gpt-test", "gpt-test-mini")
        ]
        return JSONResponse({"object": "list", "data": data})

    async def responses(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        model = body["model"]
        if model == "bad-model":
            return JSONResponse(BAD_REQUEST, status_code=400, headers=headers(self.requests))
        if model == "rate-limited":
            limited = {"retry-after": "0", **headers(self.requests)}
            return JSONResponse(RATE_LIMITED, status_code=429, headers=limited)
        text = _input_text(body["input"])
        words = ["You", " said:", *(" " + w for w in text.split())]
        if ((body.get("text") or {}).get("format") or {}).get("type") == "json_schema":
            words = [json.dumps({"answer": text})]
        if body.get("stream"):
            events = _response_events(model, words)

            async def sent() -> AsyncIterator[bytes]:
                for event in events:
                    yield _sse(event, event["type"])

            return StreamingResponse(
                sent(), media_type="text/event-stream", headers=headers(self.requests)
            )
        answer = _response(model, "completed", "".join(words))
        return JSONResponse(answer, headers=headers(self.requests))

    async def speech(self, request: Request) -> Response:
        self.requests += 1
        body = await request.json()
        audio = b"ID3" + str(body["input"]).encode()
        return Response(audio, media_type="audio/mpeg", headers=headers(self.requests))

    async def files(self, request: Request) -> Response:
        """An upload (multipart): the file object, its id from what it holds."""
        self.requests += 1
        async with request.form() as form:
            upload: Any = form["file"]
            content, filename, purpose = await upload.read(), upload.filename, form["purpose"]
        digest = hashlib.sha256(content).hexdigest()
        answer = {
            "id": f"file-{digest[:12]}",
            "object": "file",
            "bytes": len(content),
            "created_at": 0,
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        return JSONResponse(answer, headers=headers(self.requests))
