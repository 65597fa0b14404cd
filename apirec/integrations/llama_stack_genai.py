"""google-genai calls keyed as llama-stack's (OGX's) recorder keyed them (aaa303e78, v0.8.0).

Upstream patches ``AsyncModels.generate_content``, ``generate_content_stream`` and
``embed_content`` (the public methods: the SDK's function-calling loop is not run on replay),
keys each by ``POST vertexai:///<method>`` with the keyword arguments dumped as JSON
(``model_dump(mode="json", exclude_none=True)``, other objects as ``str``), and stores the
response (each chunk of a stream) dumped the same way, with no ``__type__``: replayed as
``GenerateContentResponse`` / ``EmbedContentResponse``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from apirec.integrations.llama_stack import LlamaStackKeys
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

METHODS = {
    "generate_content": "/generate_content",
    "generate_content_stream": "/generate_content_stream",
    "embed_content": "/embed_content",
}
_SCALARS = (dict, str, int, float, bool)


def _dumped(value: Any) -> Any:
    return value.model_dump(mode="json", exclude_none=True)


def genai_body(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request body upstream stored and hashed (its ``_genai_record_replay``)."""
    body: dict[str, Any] = {}
    for name, value in kwargs.items():
        if hasattr(value, "model_dump"):
            body[name] = _dumped(value)
        elif isinstance(value, list):
            body[name] = [
                _dumped(v) if hasattr(v, "model_dump") else v if isinstance(v, _SCALARS) else str(v)
                for v in value
            ]
        elif value is None or isinstance(value, _SCALARS):
            body[name] = value
        else:
            body[name] = str(value)
    return body


def _vertex(models: Any) -> str:
    return "vertexai://"


def patch_genai(rec: Recording) -> list[Patch]:
    importlib.import_module("google.genai.models")  # a clear ImportError when it is missing
    types: Any = importlib.import_module("google.genai.types")
    errors: Any = importlib.import_module("google.genai.errors")
    patches = []
    for method, endpoint in METHODS.items():
        keying = LlamaStackKeys(endpoint, base_url=_vertex, provider="vertexai", body=genai_body)
        answer = (
            types.EmbedContentResponse
            if method == "embed_content"
            else types.GenerateContentResponse
        )
        patch = DumpedPatch(
            f"google.genai.models.AsyncModels.{method}",
            answer=answer,
            name=f"POST {endpoint}",
            keying=keying,
            service_errors=(errors.APIError,),
        )
        patches.append(rec.start_patch(patch))
    return patches


class DumpedPatch(Patch):
    """An async model method recorded as upstream stored it (JSON dumps, no types), and its
    answers rebuilt as the SDK's response type."""

    def __init__(self, target: str, *, answer: Any, **options: Any) -> None:
        super().__init__(target, **options)
        self.answer = answer

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        @functools.wraps(original)
        async def dumped(models: Any, *args: Any, **kwargs: Any) -> Any:
            result = await original(models, *args, **kwargs)
            if hasattr(result, "__aiter__"):
                return _dumped_chunks(result)
            return _dumped(result)

        recorded = wrap(dumped, **options)
        answer = self.answer

        @functools.wraps(original)
        async def replacement(models: Any, *args: Any, **kwargs: Any) -> Any:
            result = await recorded.__get__(models, type(models))(*args, **kwargs)
            if hasattr(result, "__aiter__"):
                return _typed_chunks(result, answer)
            return answer.model_validate(result)

        replacement.__apirec_original__ = original  # type: ignore[attr-defined]
        return replacement


async def _dumped_chunks(stream: Any) -> AsyncIterator[Any]:
    async for chunk in stream:
        yield _dumped(chunk)


async def _typed_chunks(stream: Any, answer: Any) -> AsyncIterator[Any]:
    async for chunk in stream:
        yield answer.model_validate(chunk)
