"""A resource method with the SDKs' defaults: ``not_given`` and ``omit``."""

from __future__ import annotations

from typing import Any

from tests.lookalike_sdk._types import NotGiven, Omit, not_given, omit

CALLS: list[dict[str, Any]] = []


class Messages:
    def create(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | NotGiven = not_given,
        temperature: float | Omit = omit,
        metadata: dict[str, Any] | NotGiven = not_given,
        extra_headers: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        CALLS.append({"model": model, "temperature": temperature})
        return {"id": f"msg_{len(CALLS)}", "content": f"{len(messages)} messages"}
