"""mistralai (the SDK 2.x and later, ``mistralai.client.Mistral``): chat, fim, agents,
embeddings, classifiers, OCR and models record and replay.

Patched on the SDK's resource classes (``client.chat``, ``client.fim``, ...): ``complete``,
``stream``, their ``_async`` twins and the other methods below. ``chat.parse`` goes through
``complete``, so it records too and its parsing runs on replay. Sync and async methods share
recordings (named ``mistralai.chat.complete``, ``mistralai.chat.stream``, ...). Replayed results
are the SDK's own models (``ChatCompletionResponse``, ``CompletionEvent`` chunks...); a stream
replays as an iterator (``for``, ``with``) of the recorded events. Errors the API answered
replay as the SDK's classes (``errors.SDKError``, ``errors.HTTPValidationError``) with
``status_code``, ``body``, ``headers`` and a ``raw_response`` rebuilt from them.

Keys leave out ``retries``, ``timeout_ms`` and ``server_url`` (where the client sends it, like
a base URL). The API key lives on the client, never in an argument: never keyed nor stored.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import json
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

# module of mistralai.client -> (class, resource name in recordings, its methods)
REQUIRED = {
    "chat": ("Chat", "chat", ("complete", "stream")),
    "embeddings": ("Embeddings", "embeddings", ("create",)),
}
OPTIONAL = {
    "fim": ("Fim", "fim", ("complete", "stream")),
    "agents": ("Agents", "agents", ("complete", "stream")),
    "classifiers": (
        "Classifiers",
        "classifiers",
        ("moderate", "moderate_chat", "classify", "classify_chat"),
    ),
    "ocr": ("Ocr", "ocr", ("process",)),
    "models_": ("Models", "models", ("list", "retrieve")),
}
IGNORED = ("retries", "timeout_ms", "server_url")
SERVICE_ERRORS = ("MistralError",)


def credential_variables(sdk: str) -> list[tuple[str, ...]]:
    """``Mistral()`` reads ``MISTRAL_API_KEY``."""
    return list(FIXED_CREDENTIALS[__name__])  # known before import: the start-up sets them


def _methods(module_name: str, spec: tuple[str, str, tuple[str, ...]], required: bool) -> Any:
    cls_name, resource, names = spec
    try:
        module: Any = importlib.import_module(f"mistralai.client.{module_name}")
    except ImportError:
        if required:
            raise
        return []
    if not hasattr(module, cls_name):
        return []
    twins = [n for name in names for n in (name, f"{name}_async")]
    if required:
        found = required_methods(module, [cls_name], twins, sdk="mistralai", tested="mistralai 3.7")
    else:
        cls = getattr(module, cls_name)
        found = [(cls_name, n, getattr(cls, n)) for n in twins if hasattr(cls, n)]
    return [
        (
            f"mistralai.client.{module_name}.{c}.{m}",
            f"mistralai.{resource}.{m.removesuffix('_async')}",
            f,
        )
        for c, m, f in found
    ]


def patch_sdk(rec: Recording, sdk: str, options: Options) -> list[Patch]:
    """Record and replay mistralai's resource methods while ``rec`` is open."""
    methods = [m for module, spec in REQUIRED.items() for m in _methods(module, spec, True)]
    methods += [m for module, spec in OPTIONAL.items() for m in _methods(module, spec, False)]
    check_user_ignores(sdk, [func for _, _, func in methods], options)
    normalize = normalizer(None, options)
    service_errors = error_classes(
        importlib.import_module("mistralai.client.errors"), SERVICE_ERRORS
    )
    return [
        rec.start_patch(
            MistralPatch(
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


# the plain copy of an error's response headers that is stored with it (httpx headers are not)
_HEADERS = "response_headers"


class MistralPatch(Patch):
    """One resource method; errors the API answered get back, on replay, the response the SDK
    gave them (``raw_response``, ``headers``, an ``HTTPValidationError``'s ``data``)."""

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        recorded = wrap(on_error(original, _keep_headers), **options)
        errors: Any = importlib.import_module("mistralai.client.errors")

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def awaited(resource: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await recorded.__get__(resource, type(resource))(*args, **kwargs)
                except errors.MistralError as error:
                    _rebuild_response(error, resource, errors)
                    raise

            awaited.__apirec_original__ = original  # type: ignore[attr-defined]
            return awaited

        @functools.wraps(original)
        def called(resource: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return recorded.__get__(resource, type(resource))(*args, **kwargs)
            except errors.MistralError as error:
                _rebuild_response(error, resource, errors)
                raise

        called.__apirec_original__ = original  # type: ignore[attr-defined]
        return called


def _keep_headers(error: BaseException) -> None:
    """An API error carries its response headers as a plain dict (sensitive ones redacted), so
    they are stored with it."""
    if hasattr(error, "raw_response"):
        headers = {str(k): str(v) for k, v in getattr(error, "headers", {}).items()}
        redact_headers(headers)
        object.__setattr__(error, _HEADERS, headers)  # the SDK's errors are frozen dataclasses


def _rebuild_response(error: Any, resource: Any, errors: Any) -> None:
    """A replayed error (no ``raw_response``) gets one built from its status, headers and
    body, and the attributes the SDK derives from it."""
    if "raw_response" in vars(error) or not isinstance(getattr(error, "status_code", None), int):
        return
    # the HTTP library the SDK's errors were written against (httpx2, or httpx before)
    httpx: Any = getattr(importlib.import_module(type(error).__module__), "httpx", None)
    if httpx is None:
        return
    headers = getattr(error, _HEADERS, None) or {}
    body = error.body if isinstance(getattr(error, "body", None), str) else ""
    try:
        url = resource.sdk_configuration.get_server_details()[0]
    except Exception:  # an SDK that keeps its server elsewhere: a request with no URL
        url = "https://replayed.invalid"
    request = httpx.Request("POST", url or "https://replayed.invalid")
    response = httpx.Response(
        error.status_code, headers=headers, content=body.encode(), request=request
    )
    object.__setattr__(error, "raw_response", response)
    object.__setattr__(error, "headers", response.headers)
    notes = getattr(error, "__notes__", [])  # rebuilt: no longer "absent on replay"
    notes[:] = [n.split("; not recorded, so absent")[0] for n in notes]
    data_type = getattr(errors, f"{type(error).__name__}Data", None)
    if "data" not in vars(error) and data_type is not None:
        # a body that is not the model: left without data, as recorded
        with contextlib.suppress(ValueError):
            object.__setattr__(error, "data", data_type.model_validate(json.loads(body)))
