"""What a live call cost, stored with its answer: the ledger.

Every answer recorded from a live call gets a ``"ledger"`` beside its ``response``::

    "ledger": {"seconds": 1.84, "first_chunk_seconds": 0.31, "model": "gpt-4o-2024-08-06",
               "usage": {"input_tokens": 41, "output_tokens": 12, "cached_tokens": 0}}

``seconds`` is the wall time from the call to its answer (for a stream, to its end),
``first_chunk_seconds`` the time to a stream's first chunk. ``usage`` and ``model`` are what
the provider reported in the answer, read from its stored (encoded) form, so one reader serves
every SDK and every way in: openai (chat, responses, embeddings), anthropic, google.genai,
ollama, mistralai, cohere, and any answer shaped like theirs. Recordings made before the
ledger, or of calls that report nothing, have no ``"ledger"`` (or no ``usage``): unknown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from apirec.stores.http_documents import reply_documents, stream_documents

LEDGER = "ledger"
TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")

# Where each SDK puts its counts, as paths into the usage object it reports: the first path
# that holds a number wins, per kind.
_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "input_tokens": (
        ("prompt_tokens",),  # openai chat/embeddings, mistralai
        ("input_tokens",),  # anthropic, openai responses
        ("prompt_token_count",),  # google.genai
        ("billed_units", "input_tokens"),  # cohere
        ("tokens", "input_tokens"),
    ),
    "output_tokens": (
        ("completion_tokens",),
        ("output_tokens",),
        ("candidates_token_count",),
        ("billed_units", "output_tokens"),
        ("tokens", "output_tokens"),
    ),
    "cached_tokens": (
        ("prompt_tokens_details", "cached_tokens"),
        ("input_tokens_details", "cached_tokens"),
        ("cache_read_input_tokens",),
        ("cached_content_token_count",),
    ),
    "reasoning_tokens": (
        ("completion_tokens_details", "reasoning_tokens"),
        ("output_tokens_details", "reasoning_tokens"),
        ("thoughts_token_count",),
    ),
}
# Counts some SDKs report apart that are billed as part of a kind: added to it. anthropic's
# input_tokens excludes the tokens read from and written to its prompt cache (openai's
# prompt_tokens includes its cached ones); google.genai's candidates_token_count excludes the
# thinking tokens (openai's completion_tokens includes its reasoning ones).
_ADDED: dict[str, tuple[tuple[str, ...], ...]] = {
    "input_tokens": (("cache_creation_input_tokens",), ("cache_read_input_tokens",)),
    "output_tokens": (("thoughts_token_count",),),
}
_USAGE_FIELDS = ("usage", "usage_metadata", "meta")  # cohere: meta.billed_units
_NOT_INSIDE = frozenset(_USAGE_FIELDS) | {"usageMetadata", "sdkHttpResponse", "headers"}
_DEPTH = 3  # answers nest their usage at most this deep (anthropic: message.usage)


def plain(value: Any) -> Any:
    """A stored value without apirec's type envelopes (``{"__type__", "__data__"}``)."""
    while isinstance(value, dict) and "__type__" in value and "__data__" in value:
        value = value["__data__"]
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def _get(data: dict[str, Any], name: str) -> Any:
    """``data[name]``, or its camelCase spelling (google.genai dumps by the API's names)."""
    value = data.get(name)
    return data.get(_camel(name)) if value is None else value


def _number(usage: Any, path: tuple[str, ...]) -> int | None:
    for name in path:
        usage = plain(usage)
        if not isinstance(usage, dict):
            return None
        usage = _get(usage, name)
    usage = plain(usage)
    if isinstance(usage, bool) or not isinstance(usage, int | float):
        return None
    return int(usage)


def _usages(data: Any, depth: int = 0) -> Iterator[Any]:
    """The usage objects of one answer (or chunk): ``usage`` and its kin, at the top and in
    the objects it holds (anthropic's ``message_start`` carries ``message.usage``)."""
    data = plain(data)
    if not isinstance(data, dict) or depth > _DEPTH:
        return
    for name in _USAGE_FIELDS:
        found = _get(data, name)
        if found is not None:
            yield found
    if "prompt_eval_count" in data or "eval_count" in data:  # ollama: counts at the top
        yield {
            "prompt_tokens": data.get("prompt_eval_count"),
            "completion_tokens": data.get("eval_count"),
        }
    for name, value in data.items():
        if name not in _NOT_INSIDE and isinstance(value, dict):
            yield from _usages(value, depth + 1)


def _model(data: Any, depth: int = 0) -> str | None:
    data = plain(data)
    if not isinstance(data, dict) or depth > _DEPTH:
        return None
    for name in ("model", "model_version", "modelVersion"):
        if isinstance(data.get(name), str) and data[name]:
            return str(data[name])
    for value in data.values():
        found = _model(value, depth + 1) if isinstance(value, dict) else None
        if found:
            return found
    return None


def _parts(response: Mapping[str, Any]) -> list[Any]:
    """What an answer's usage and model are read from: its value, a stream's chunks, or the
    documents of the HTTP body it stored."""
    body = response.get("body")
    if response.get("is_streaming") and isinstance(body, list):
        found = stream_documents(body)
        return body if found is None else found
    found = reply_documents(plain(body))
    return [body] if found is None else found


def usage_and_model(response: Mapping[str, Any]) -> tuple[dict[str, int], str | None]:
    """The token counts and the model an answer reports. A stream's chunks report as they
    go (cumulative counts, or one chunk each): the largest count of each kind is the total.
    An HTTP answer stored as such (raw responses, httpx's ``send``) is read by the JSON
    documents its body carries (:mod:`apirec.stores.http_documents`)."""
    usage: dict[str, int] = {}
    model = None
    for part in _parts(response):
        for found in _usages(part):
            for kind, paths in _PATHS.items():
                for path in paths:
                    n = _number(found, path)
                    if n is not None:
                        n += sum(_number(found, more) or 0 for more in _ADDED.get(kind, ()))
                        usage[kind] = max(usage.get(kind, 0), n)
                        break
        model = model or _model(part)
    return usage, model


def ledger_of(
    response: Mapping[str, Any],
    seconds: float,
    chunk_seconds: list[float] | None = None,
    heads: int = 0,
) -> dict[str, Any]:
    """The ledger of one live answer. Times to the hundredth of a second: enough to add up
    what replay saves, and a quick call recorded again keeps its bytes. ``heads``: how many
    of the stream's stored chunks are apirec's own heads, not chunks its caller gets (the
    HTTP head of openai/anthropic streams): the first chunk is the one after them, while
    ``chunk_seconds`` keeps every stored chunk's time (a paced replay is due by them)."""
    ledger: dict[str, Any] = {"seconds": round(seconds, 2)}
    if chunk_seconds and len(chunk_seconds) > heads:
        ledger["first_chunk_seconds"] = round(chunk_seconds[heads], 2)
    usage, model = usage_and_model(response)
    if model:
        ledger["model"] = model
    if usage:
        ledger["usage"] = usage
    if chunk_seconds is not None:  # when each chunk came: replay_timing="recorded" paces by it
        ledger["chunk_seconds"] = [round(t, 2) for t in chunk_seconds]
    return ledger


def finite(value: Any) -> float | None:
    """A ledger's number, or None: not a number, or NaN or infinite (JSON lets a file say
    ``NaN``: a damaged ledger, unknown like a missing one)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


# What no live call gives: a ledger saying so is damaged (a file from a pull request may say
# anything), and is read as unknown, as a missing one is.
LONGEST_CALL = 86_400.0  # seconds: a day
MOST_TOKENS = 1_000_000_000  # per call, of one kind


def seconds_of(value: Any) -> float | None:
    """A ledger's duration in seconds (a call's, a chunk's), or None: damaged or absurd."""
    seconds = finite(value)
    return seconds if seconds is not None and 0.0 <= seconds <= LONGEST_CALL else None


def _tokens(value: Any) -> int | None:
    n = finite(value)
    return int(n) if n is not None and 0 <= n <= MOST_TOKENS else None


def reported(value: Any, depth: int = 0) -> Any:
    """A stored ledger as a report shows it: strict JSON (a non-finite number, which only a
    damaged file holds, is null: unknown)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if depth > 8:  # a ledger is shallow; a deeper one is damaged
        return None
    if isinstance(value, dict):
        return {str(k): reported(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [reported(v, depth + 1) for v in value]
    return value


def read(entry: Mapping[str, Any]) -> tuple[float | None, dict[str, int], str | None]:
    """A stored entry's live seconds, token counts and model; ``None``/empty when unknown
    (recorded before the ledger, or damaged: never an error, the ledger is only a report)."""
    ledger = entry.get(LEDGER)
    if not isinstance(ledger, dict):
        return None, {}, None
    seconds = ledger.get("seconds")
    usage = ledger.get("usage")
    counts = {
        kind: n
        for kind in TOKENS
        if isinstance(usage, dict) and (n := _tokens(usage.get(kind))) is not None
    }
    model = ledger.get("model")
    return seconds_of(seconds), counts, model if isinstance(model, str) else None


def tokens_text(n: float) -> str:
    """``1.2M``, ``45.3k``, ``812``: a count of tokens, for people."""
    for size, unit in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n:.0f}"


def tokens_count(n: int) -> str:
    """``1 token``, ``1.2M tokens``: :func:`tokens_text` with its noun."""
    return f"{tokens_text(n)} token{'' if n == 1 else 's'}"


def money_text(dollars: float) -> str:
    """``$2.46``, ``$1,234.50``; below a cent, two significant digits (``$0.0012``,
    ``$0.00004``: a call's cost, not ``$0.00``); ``<$0.00001`` below that."""
    if dollars == 0 or dollars >= 0.01:
        return f"${dollars:,.2f}"
    if dollars < 0.00001:
        return "<$0.00001"
    digits = 1 - math.floor(math.log10(dollars))
    return "$" + f"{dollars:.{digits}f}".rstrip("0")
