"""tavily-python: search, extract, crawl, map and research record and replay.

Patched on ``TavilyClient`` and ``AsyncTavilyClient`` where each request is made (the SDK's
``_search``, ``_extract``, ``_crawl``, ``_map``), so ``get_search_context`` and ``qna_search``,
which search without going through ``search``, record too, and the public methods' own work
on the answer runs on replay; and ``research`` (streamed with ``stream=True`` or not) and
``get_research`` (polled: the n-th poll replays the n-th answer). Sync and async clients
share recordings (named ``tavily.search``...). Replayed results are the dicts the API sent
(the bytes of a research stream); errors the SDK's own (``tavily.BadRequestError``,
``ForbiddenError``, ``InvalidAPIKeyError``, ``UsageLimitExceededError``...).

Keys leave out ``timeout`` and the per-request tracking headers ``session_id``, ``human_id``
and ``client_name``; ``project_id`` is redacted (kept out of the key, stored as
``"<redacted>"``). The API key lives on the client, never in an argument: never keyed nor
stored.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from apirec.integrations.defaults import (
    check_user_ignores,
    error_classes,
    ignores_for,
    normalizer,
    required_methods,
)
from apirec.integrations.known import FIXED_CREDENTIALS
from apirec.integrations.registry import Options
from apirec.record.wrapping import Patch

if TYPE_CHECKING:
    from apirec.record.recording import Recording

# the method patched -> the name calls are recorded under
METHODS = {
    "_search": "tavily.search",
    "_extract": "tavily.extract",
    "_crawl": "tavily.crawl",
    "_map": "tavily.map",
}
# in tavily-python 0.7 and later
LATER = {"research": "tavily.research", "get_research": "tavily.get_research"}
CLASSES = ("TavilyClient", "AsyncTavilyClient")
IGNORED = ("timeout", "session_id", "human_id", "client_name")
REDACTED = ("project_id",)
# what the API answered (the SDK's classes by status); MissingAPIKeyError and the keyless
# mode's refusal of an endpoint are the client's own checks, never stored
SERVICE_ERRORS = (
    "BadRequestError",
    "ForbiddenError",
    "InvalidAPIKeyError",
    "UsageLimitExceededError",
)


def credential_variables(sdk: str) -> list[tuple[str, ...]]:
    """``TavilyClient()`` reads ``TAVILY_API_KEY`` (without one it turns keyless, which
    refuses some endpoints before asking)."""
    return list(FIXED_CREDENTIALS[__name__])  # known before import: the start-up sets them


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay tavily's search, extract, crawl and map while ``rec`` is open."""
    tavily: Any = importlib.import_module("tavily")
    methods = required_methods(tavily, CLASSES, METHODS, sdk="tavily", tested="tavily-python 0.8")
    methods += [
        (cls, method, getattr(getattr(tavily, cls), method))
        for cls in CLASSES
        for method in LATER
        if hasattr(getattr(tavily, cls), method)
    ]
    check_user_ignores(sdk, [func for _, _, func in methods], options)
    normalize = normalizer(None, options)
    service_errors = error_classes(importlib.import_module("tavily.errors"), SERVICE_ERRORS)
    return [
        rec.start_patch(
            Patch(
                f"{type_path(getattr(tavily, cls))}.{method}",
                name=METHODS.get(method) or LATER[method],
                ignore=ignores_for(func, IGNORED, options),
                redact=REDACTED,
                normalize=normalize,
                service_errors=service_errors,
                scrub=options.scrub,
            )
        )
        for cls, method, func in methods
    ]


def type_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
