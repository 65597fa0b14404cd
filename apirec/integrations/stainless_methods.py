"""The resource methods of an SDK generated like openai's: how a call is named and keyed.

Every public method of every resource class (``Completions.create``, ``Messages.stream``...,
including classes imported later) is wrapped once per process. The wrapper notes the call the
user made (an :class:`Entry`) for the request it leads to; the request hook
(:mod:`apirec.integrations.stainless`) keys that request by it, so keys are the method's name
(``openai.chat.completions.create``) and the arguments the user passed, as ``@record`` would
key them. A method seen to return what its request returned, a value or a stream, is then
replayed by the wrapper itself, without the SDK building the request (the fast lane).

A method that returns before making its request (anthropic's ``messages.stream()``: a manager
that makes it when entered) leaves its call on what it returned, and the manager's
``__enter__``/``__aenter__`` make it current again (:func:`deferred`): the request is keyed by
the method's call (``anthropic.messages.stream`` and its arguments), as every other one is,
and ``ignore=`` names the same arguments for it as for ``create``.

Keys leave out ``timeout``, idempotency keys and, in ``extra_headers``, ``User-Agent``,
``X-Stainless-*`` (except the raw-response marker) and ``Idempotency-Key``.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

from apirec.codec.type_resolution import given_types
from apirec.integrations.stainless_uploads import file_parameters, keyed_uploads
from apirec.keys.spec import KeySpec

if TYPE_CHECKING:
    from apirec.integrations.registry import Options

DEFAULT_IGNORE = ("timeout", "idempotency_key", "max_retries")
_DROPPED_HEADER = re.compile(
    r"^(user-agent|idempotency-key|x-stainless-(?!raw-response$).*|_+stainless_override_cast_to)$",
    re.IGNORECASE,
)
RAW_HEADER = "x-stainless-raw-response"
FAST_KINDS = ("value", "stream")

# (recording, its options for this SDK) for a call now, or None: calls go straight through
Route = Callable[[], "tuple[Any, Options] | None"]


class Entry:
    """A resource method call in progress, for the request it makes."""

    __slots__ = ("args", "capture", "kwargs", "method", "resource", "returned", "spec", "used")

    def __init__(
        self, method: Method, spec: KeySpec, resource: Any, args: Any, kwargs: Any
    ) -> None:
        self.method = method
        self.spec = spec
        self.resource = resource
        self.args = args
        self.kwargs = kwargs
        self.capture = False  # the fast lane records: its request only fetches the answer
        self.used = False  # its first request is keyed by it; any other one by HTTP
        self.returned: tuple[Any, str] | None = None  # (what the request gave, its kind)


CURRENT: ContextVar[Entry | None] = ContextVar("apirec_stainless_entry", default=None)


def key_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments as keyed: client versions and idempotency keys out of headers;
    a model class (``.parse(response_format=Answer)``) as the JSON schema the SDK sends."""
    for name, value in kwargs.items():
        if isinstance(value, type) and hasattr(value, "model_json_schema"):
            kwargs = {**kwargs, name: {"json_schema": value.model_json_schema()}}
    headers = kwargs.get("extra_headers")
    if not headers or not isinstance(headers, Mapping):
        return kwargs
    kept = {k: v for k, v in headers.items() if not _DROPPED_HEADER.match(str(k))}
    out = dict(kwargs)
    if kept:
        out["extra_headers"] = kept
    else:
        del out["extra_headers"]
    return out


def given_models(kwargs: dict[str, Any]) -> list[type]:
    """The model classes a call was given (``.parse(response_format=Answer)``): its replayed
    answer holds instances of them, whether or not they can be imported."""
    return [v for v in kwargs.values() if isinstance(v, type) and hasattr(v, "model_fields")]


def is_raw(kwargs: dict[str, Any]) -> bool:
    headers = kwargs.get("extra_headers")
    if not headers or not isinstance(headers, Mapping):
        return False
    return any(str(k).lower() == RAW_HEADER for k in headers)


def call_name(sdk: str, cls: type, method: str) -> str:
    """``openai.resources.chat.completions.completions`` + ``create`` ->
    ``openai.chat.completions.create``: the path users write, module repeats folded. A
    resource class outside the SDK is named by its module and class."""
    parts = cls.__module__.split(".")
    if parts[0] != sdk.split(".")[0]:
        return f"{cls.__module__}.{cls.__qualname__}.{method}"
    if len(parts) > 1 and parts[1] == "resources":
        parts = [parts[0], *parts[2:]]
    folded: list[str] = []
    for part in parts:
        if not folded or folded[-1] != part:
            folded.append(part)
    return ".".join([*folded, method])


class Method:
    """One wrapped resource method: its name, key specs by options, and whether it may
    replay by itself (learned from what it returned)."""

    def __init__(
        self, original: Any, name: str, service_errors: tuple[type[BaseException], ...] = ()
    ) -> None:
        self.original = original
        self.name = name
        self.service_errors = service_errors
        self.fast = False
        self._specs: dict[Any, KeySpec] = {}
        self._last: tuple[Options, KeySpec] | None = None
        # the keyword arguments as keyed: the first call finds the method's upload parameters,
        # then a method without any keys them by key_kwargs itself, at no cost per call
        self.key_kwargs: Callable[[dict[str, Any]], dict[str, Any]] = self._first_key_kwargs

    def _first_key_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        uploads = file_parameters(self.original)
        if uploads:
            # (name, bytes) uploads keyed as files (.stainless_uploads)
            self.key_kwargs = lambda given: key_kwargs(keyed_uploads(given, uploads))
        else:
            self.key_kwargs = key_kwargs
        return self.key_kwargs(kwargs)

    def spec(self, options: Options) -> KeySpec:
        last = self._last
        if last is not None and last[0] is options:  # the same recording's options: no hashing
            return last[1]
        spec = self._specs.get(options)
        if spec is None:
            spec = KeySpec(
                self.original,
                name=self.name,
                ignore=[*DEFAULT_IGNORE, *options.ignore],
                normalize=options.normalize,
                service_errors=self.service_errors,
                scrub=options.scrub,
            )
            self._specs[options] = spec
        self._last = (options, spec)
        return spec

    def learn(self, entry: Entry, result: Any) -> None:
        returned = entry.returned
        if returned is not None and returned[0] is result and returned[1] in FAST_KINDS:
            self.fast = True


class Hooks(Protocol):
    """What the method wrappers use of their SDK's hooks (:mod:`.stainless_requests`)."""

    route: Route
    service_errors: tuple[type[BaseException], ...]

    def convert(self, result: Any, client: Any, function: str) -> Any: ...
    async def aconvert(self, result: Any, client: Any, function: str) -> Any: ...
    def complete_error(self, error: BaseException, client: Any) -> None: ...


def wrap_method(original: Any, name: str, hooks: Hooks) -> Callable[..., Any]:
    """The wrapper installed for one resource method."""
    method = Method(original, name, hooks.service_errors)
    route, convert, aconvert, complete = (
        hooks.route,
        hooks.convert,
        hooks.aconvert,
        hooks.complete_error,
    )

    if inspect.iscoroutinefunction(inspect.unwrap(original)):

        @functools.wraps(original)
        async def call_async(resource: Any, *args: Any, **kwargs: Any) -> Any:
            routed = route()
            if routed is None or routed[0].passes_through:
                return await original(resource, *args, **kwargs)
            models = given_models(kwargs)
            if models:
                with given_types(models):
                    return await routed_async(routed, resource, args, kwargs)
            return await routed_async(routed, resource, args, kwargs)

        async def routed_async(routed: Any, resource: Any, args: Any, kwargs: Any) -> Any:
            rec, options = routed
            spec = method.spec(options)
            entry = Entry(method, spec, resource, args, method.key_kwargs(kwargs))
            if method.fast and not is_raw(kwargs):
                entry.capture = True

                async def fetch(*_: Any, **__: Any) -> Any:
                    token = CURRENT.set(entry)
                    try:
                        return await original(resource, *args, **kwargs)
                    finally:
                        CURRENT.reset(token)

                try:
                    result = await rec.call_async(spec, fetch, resource, args, entry.kwargs)
                except Exception as error:
                    complete(error, resource._client)
                    raise
                return await aconvert(result, resource._client, name)
            token = CURRENT.set(entry)
            try:
                result = await original(resource, *args, **kwargs)
            finally:
                CURRENT.reset(token)
            method.learn(entry, result)
            return deferred(entry, result)

        wrapper: Any = call_async
    else:

        @functools.wraps(original)
        def call(resource: Any, *args: Any, **kwargs: Any) -> Any:
            routed = route()
            if routed is None or routed[0].passes_through:
                return original(resource, *args, **kwargs)
            models = given_models(kwargs)
            if models:
                with given_types(models):
                    return routed_call(routed, resource, args, kwargs)
            return routed_call(routed, resource, args, kwargs)

        def routed_call(routed: Any, resource: Any, args: Any, kwargs: Any) -> Any:
            rec, options = routed
            spec = method.spec(options)
            entry = Entry(method, spec, resource, args, method.key_kwargs(kwargs))
            if method.fast and not is_raw(kwargs):
                entry.capture = True

                def fetch(*_: Any, **__: Any) -> Any:
                    token = CURRENT.set(entry)
                    try:
                        return original(resource, *args, **kwargs)
                    finally:
                        CURRENT.reset(token)

                try:
                    result = rec.call_sync(spec, fetch, resource, args, entry.kwargs)
                except Exception as error:
                    complete(error, resource._client)
                    raise
                return convert(result, resource._client, name)
            token = CURRENT.set(entry)
            try:
                result = original(resource, *args, **kwargs)
            finally:
                CURRENT.reset(token)
            method.learn(entry, result)
            return deferred(entry, result)

        wrapper = call
    wrapper.__apirec_original__ = original
    wrapper.__apirec_method__ = method
    installed: Callable[..., Any] = wrapper
    return installed


_DEFERRED = "_apirec_deferred_entry"  # the call a manager's request is for, on the manager


def deferred(entry: Entry, result: Any) -> Any:
    """``result`` of a method that made no request yet: when it is a context manager of the
    SDK's (a ``.stream()`` helper's manager), the request it makes when entered is keyed by
    ``entry``. A method that made its request (or called another method, which keys it)
    returns as it is."""
    if entry.used:
        return result
    cls = type(result)
    sdk = type(entry.resource).__module__.partition(".")[0]
    if cls.__module__.partition(".")[0] != sdk or not hasattr(result, "__dict__"):
        return result
    entering = [name for name in ("__enter__", "__aenter__") if callable(getattr(cls, name, None))]
    if not entering:
        return result
    for name in entering:
        _enter_as_the_call(cls, name)
    result.__dict__[_DEFERRED] = entry
    return result


def _enter_as_the_call(cls: type, name: str) -> None:
    """Wrap ``cls.__enter__`` (or ``__aenter__``), once per process: while it runs, the call
    left on the manager is the current one."""
    current = getattr(cls, name)
    if getattr(current, "__apirec_deferred__", False):
        return
    original = getattr(current, "__apirec_original__", current)

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def aenter(manager: Any) -> Any:
            entry = manager.__dict__.pop(_DEFERRED, None)
            if entry is None:  # made outside a recording, or entered again: as it was
                return await original(manager)
            token = CURRENT.set(entry)
            try:
                return await original(manager)
            finally:
                CURRENT.reset(token)

        entered: Any = aenter
    else:

        @functools.wraps(original)
        def enter(manager: Any) -> Any:
            entry = manager.__dict__.pop(_DEFERRED, None)
            if entry is None:  # made outside a recording, or entered again: as it was
                return original(manager)
            token = CURRENT.set(entry)
            try:
                return original(manager)
            finally:
                CURRENT.reset(token)

        entered = enter
    entered.__apirec_original__ = original
    entered.__apirec_deferred__ = True
    setattr(cls, name, entered)
