"""What a recording was recorded against: the origin (``scheme://host:port``) of each answer.

An answer recorded through a method of an SDK client stores the origin of the client's base
URL (``"origin"`` beside ``request``); another recorder's format stores its request's absolute
``url`` (llama-stack). A replay learns from these which loopback servers it must not reach
(:class:`~apirec.guard.hosts.RecordedHosts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apirec.guard.hosts import origin_of_url

ORIGIN = "origin"

# Where SDK objects keep the URL they send to: the client itself (openai, anthropic, tavily,
# httpx), the client a resource or a wrapper holds (``_client``: stainless resources, ollama's
# httpx client), google-genai's API client options.
_PATHS = (("base_url",), ("_client", "base_url"), ("_api_client", "_http_options", "base_url"))


def origin_of(instance: object) -> str | None:
    """The origin the object a method was called on sends its requests to, if it says."""
    if instance is None:
        return None
    for path in _PATHS:
        value: Any = instance
        for name in path:
            value = getattr(value, name, None)
            if value is None:
                break
        else:
            origin = origin_of_url(str(value))
            if origin is not None:
                return origin
    return None


def origin_in(entry: Mapping[str, Any]) -> str | None:
    """The origin a stored answer was recorded against, if it says."""
    origin = origin_of_url(entry.get(ORIGIN))
    if origin is not None:
        return origin
    request = entry.get("request")
    return origin_of_url(request.get("url")) if isinstance(request, Mapping) else None
