"""google-genai: generate_content(_stream), embed_content and count_tokens record and replay.

Patched on ``Models`` and ``AsyncModels`` (``client.models`` and ``client.aio.models``, so also
chats). ``generate_content`` and ``generate_content_stream`` are recorded per request to the
API (the SDK's ``_generate_content`` and ``_generate_content_stream``): the SDK's automatic
function calling and continuation loops run for real on replay, calling the Python functions
given as tools, as everything around a recorded call does. ``client.aio.models
.generate_content_stream(...)`` is awaited for an async iterator, replayed alike. Replayed
results are the SDK's own (``GenerateContentResponse``...), errors ``errors.ClientError`` and
``errors.ServerError`` with their code, status and details.

Keys leave out entries that are None (the SDK sends requests without them) and, in
``config.http_options``, the SDK's version headers (``user-agent``, ``x-goog-api-client``),
``timeout``, ``retry_options`` and HTTP client arguments; credentials (``x-goog-api-key``) are
redacted as everywhere. Python functions given as tools are keyed by their schema
(:mod:`apirec.keys.functions`). Stored responses keep ``sdk_http_response`` headers, sensitive
ones redacted.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from apirec.integrations.defaults import (
    check_user_ignores,
    error_classes,
    ignores_for,
    normalizer,
    redact_headers,
    required_methods,
    without_none,
)
from apirec.integrations.known import FIXED_CREDENTIALS
from apirec.integrations.registry import Options
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

# the method patched -> the name calls are recorded under
METHODS = {
    "_generate_content": "google.genai.models.generate_content",
    "_generate_content_stream": "google.genai.models.generate_content_stream",
    "embed_content": "google.genai.models.embed_content",
    "count_tokens": "google.genai.models.count_tokens",
}
CLASSES = ("Models", "AsyncModels")
_TRANSPORT = (
    "headers.user-agent",
    "headers.x-goog-api-client",
    "timeout",
    "retry_options",
    "client_args",
    "async_client_args",
    "httpx_client",
    "httpx_async_client",
    "aiohttp_client",
)
IGNORED = tuple(f"config.http_options.{name}" for name in _TRANSPORT)


def credential_variables(sdk: str) -> list[tuple[str, ...]]:
    """``genai.Client()`` reads ``GOOGLE_API_KEY``, else ``GEMINI_API_KEY`` (and warns when
    both are set, so one placeholder at most)."""
    return list(FIXED_CREDENTIALS[__name__])  # known before import: the start-up sets them


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay google-genai's model calls while ``rec`` is open."""
    models: Any = importlib.import_module("google.genai.models")
    methods = required_methods(
        models, CLASSES, METHODS, sdk="google.genai", tested="google-genai 3.6"
    )
    check_user_ignores(sdk, [func for _, _, func in methods], options)
    normalize = normalizer(without_none, options)
    service_errors = error_classes(importlib.import_module("google.genai.errors"), ("APIError",))
    return [
        rec.start_patch(
            GenAIPatch(
                f"google.genai.models.{cls}.{method}",
                name=METHODS[method],
                ignore=ignores_for(func, IGNORED, options),
                normalize=normalize,
                service_errors=service_errors,
                scrub=options.scrub,
            )
        )
        for cls, method, func in methods
    ]


def _redacted(response: Any) -> Any:
    http = getattr(response, "sdk_http_response", None)
    redact_headers(getattr(http, "headers", None))
    return response


class GenAIPatch(Patch):
    """One model method, its responses' sensitive headers redacted before they are stored."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        recorded = wrap(_redacting(original), **options)

        @functools.wraps(original)
        def replacement(models: Any, *args: Any, **kwargs: Any) -> Any:
            return recorded.__get__(models, type(models))(*args, **kwargs)

        replacement.__apirec_original__ = original  # type: ignore[attr-defined]
        return replacement


def _redacting(original: Any) -> Any:
    """``original`` whose results (each chunk of a stream) have sensitive headers redacted."""
    if inspect.isgeneratorfunction(original):

        @functools.wraps(original)
        def chunks(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for chunk in original(*args, **kwargs):
                yield _redacted(chunk)

        return chunks

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def awaited(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            if hasattr(result, "__aiter__"):
                return _async_chunks(result)
            return _redacted(result)

        return awaited

    @functools.wraps(original)
    def returned(*args: Any, **kwargs: Any) -> Any:
        return _redacted(original(*args, **kwargs))

    return returned


async def _async_chunks(stream: Any) -> AsyncIterator[Any]:
    try:
        async for chunk in stream:
            yield _redacted(chunk)
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
