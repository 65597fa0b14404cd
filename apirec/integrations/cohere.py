"""cohere: ``ClientV2`` / ``AsyncClientV2`` chat, chat_stream, embed and rerank record and
replay, and the v1 ``Client`` / ``AsyncClient`` methods of the same names.

Patched on the SDK's ``V2Client`` and ``AsyncV2Client`` (the v2 API: ``cohere.ClientV2()``)
and ``cohere.Client`` / ``cohere.AsyncClient`` (the v1 API). ``parse`` goes through ``chat``,
so it records too. Sync and async clients share recordings (named ``cohere.v2.chat``,
``cohere.v2.chat_stream``, ..., and ``cohere.chat``... for v1). Replayed results are the SDK's
own models (``V2ChatResponse``, the stream's ``ContentDeltaV2ChatStreamResponse`` events...);
errors the SDK's classes by status (``cohere.BadRequestError``, ``NotFoundError``...) with
``status_code``, ``body`` and ``headers`` (sensitive ones redacted).

Keys leave out ``request_options`` (timeouts, retries, extra headers). The API key lives on the
client, never in an argument: never keyed nor stored.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any

from apirec.integrations.defaults import (
    check_user_ignores,
    error_classes,
    ignores_for,
    normalizer,
    on_error,
    redact_headers,
    required_methods,
)
from apirec.integrations.known import FIXED_CREDENTIALS
from apirec.integrations.registry import Options
from apirec.record.wrapping import Patch, wrap

if TYPE_CHECKING:
    from apirec.record.recording import Recording

METHODS = ("chat", "chat_stream", "embed", "rerank")
# (module, class, prefix of the names calls are recorded under)
V2 = (
    ("cohere.v2.client", "V2Client", "cohere.v2"),
    ("cohere.v2.client", "AsyncV2Client", "cohere.v2"),
)
V1 = (("cohere.client", "Client", "cohere"), ("cohere.client", "AsyncClient", "cohere"))
IGNORED = ("request_options",)
SERVICE_ERRORS = ("ApiError",)


def credential_variables(sdk: str) -> list[tuple[str, ...]]:
    """``ClientV2()`` reads ``CO_API_KEY``, else ``COHERE_API_KEY``, and refuses to be built
    without one."""
    return list(FIXED_CREDENTIALS[__name__])  # known before import: the start-up sets them


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay cohere's chat, chat_stream, embed and rerank while ``rec`` is open."""
    methods = []
    for module_name, cls, prefix in V2:
        module: Any = importlib.import_module(module_name)
        found = required_methods(module, [cls], METHODS, sdk="cohere", tested="cohere 7.3")
        methods += [(f"{module_name}.{c}.{m}", f"{prefix}.{m}", f) for c, m, f in found]
    for module_name, cls, prefix in V1:
        klass = getattr(importlib.import_module(module_name), cls, None)
        methods += [
            (f"{module_name}.{cls}.{m}", f"{prefix}.{m}", getattr(klass, m))
            for m in METHODS
            if klass is not None and m in vars(klass)  # the v1 API's own, not inherited
        ]
    check_user_ignores(sdk, [func for _, _, func in methods], options)
    normalize = normalizer(None, options)
    service_errors = error_classes(importlib.import_module("cohere.core.api_error"), SERVICE_ERRORS)
    return [
        rec.start_patch(
            CoherePatch(
                target,
                name=name,
                ignore=ignores_for(func, IGNORED, options),
                normalize=normalize,
                service_errors=service_errors,
                scrub=options.scrub,
            )
        )
        for target, name, func in methods
    ]


class CoherePatch(Patch):
    """One client method; the response headers its API errors carry are redacted before the
    error is stored (in record mode the caller sees them redacted too)."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        return _ClassMethod(wrap(on_error(original, _redact), **options))


class _ClassMethod:
    """The patched method, installed as a data descriptor: cohere's ``Client.__init__`` binds
    ``self.chat`` (and ``chat_stream``) on the instance, wrapping the method as it was then,
    so a client built before the patch (a session fixture) would call the original. A data
    descriptor on the class wins over the instance's own attribute: every client, built
    before or after, calls the patched method (cohere's argument checks on that instance
    wrapper, an experimental-feature warning and v1's ``stream=True`` refusal, are skipped
    while patched)."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.__wrapped__ = func
        self.__doc__ = getattr(func, "__doc__", None)

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        return self.func if obj is None else types.MethodType(self.func, obj)

    def __set__(self, obj: Any, value: Any) -> None:  # __init__'s binding, kept for after
        obj.__dict__[getattr(self.func, "__name__", "")] = value


def _redact(error: BaseException) -> None:
    redact_headers(getattr(error, "headers", None))
