"""What the integrations leave out of keys by default, and the user's options added to it.

``Options.ignore`` names apply to every method an integration patches: each method gets those
of its parameters (a dotted path by its first part), and a name no patched method has is a
typo, refused. ``Options.normalize`` runs after the integration's own normaliser. Response
headers that identify an account (cookies, credentials, organisation and project) are
redacted before a response is stored.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from apirec.gate.names import HEADERS, is_secret_name
from apirec.integrations.registry import Options, UnknownIntegration
from apirec.keys.marks import REDACTED
from apirec.keys.spec import Normalizer


def required_methods(
    module: Any, classes: Iterable[str], names: Iterable[str], *, sdk: str, tested: str
) -> list[tuple[str, str, Any]]:
    """``(class, method, function)`` for each class of ``module`` and each method name, or an
    :class:`UnknownIntegration` naming the missing ones before anything is patched: a newer SDK
    that renamed one would otherwise leave its calls unrecorded. ``tested`` names the
    distribution and version the integration was tested with (``"tavily-python 0.8"``)."""
    pairs = [(cls, name) for cls in classes for name in names]
    missing = [f"{c}.{m}" for c, m in pairs if not hasattr(getattr(module, c), m)]
    if missing:
        raise UnknownIntegration(
            f"apirec.integrations: this {tested.split()[0]} has no {', '.join(missing)}; "
            f"apirec's {sdk} integration was tested with {tested}"
        )
    return [(c, m, getattr(getattr(module, c), m)) for c, m in pairs]


def error_classes(module: Any, names: Iterable[str]) -> tuple[type[BaseException], ...]:
    """The SDK's exception classes of these names that ``module`` has: those its service's
    answers raise (an older SDK may lack some). Only they, errors with an HTTP status and
    connection failures are stored (:func:`apirec.record.error_policy.from_service`)."""
    found = [getattr(module, name, None) for name in names]
    return tuple(c for c in found if isinstance(c, type) and issubclass(c, BaseException))


def drop_none(value: Any) -> Any:
    """Dict entries holding None removed, at any depth: SDKs that send requests with
    ``exclude_none`` (ollama, google-genai) make the same request with or without them."""
    if type(value) is dict:
        return {k: drop_none(v) for k, v in value.items() if v is not None}
    if type(value) is list:
        return [drop_none(v) for v in value]
    return value


def without_none(arguments: dict[str, Any]) -> Mapping[str, Any]:
    result: dict[str, Any] = drop_none(arguments)
    return result


def normalizer(default: Normalizer | None, options: Options) -> Normalizer | None:
    """The integration's normaliser, then the user's."""
    user = options.normalize
    if default is None or user is None:
        return default or user
    first = default

    def both(arguments: dict[str, Any]) -> Mapping[str, Any]:
        return user(dict(first(arguments)))

    return both


@functools.lru_cache(maxsize=256)
def _parameters(func: Callable[..., Any]) -> tuple[frozenset[str], bool]:
    """Per SDK method, once per process: integrations are patched into every test."""
    params = inspect.signature(func).parameters
    var_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return frozenset(params), var_keyword


def ignores_for(func: Callable[..., Any], defaults: Iterable[str], options: Options) -> list[str]:
    """The default names ``func`` has, then the user's names ``func`` has."""
    names, var_keyword = _parameters(func)
    return [i for i in (*defaults, *options.ignore) if var_keyword or i.split(".")[0] in names]


def check_user_ignores(sdk: str, funcs: Sequence[Callable[..., Any]], options: Options) -> None:
    """A user ``ignore=`` name that no patched method of ``sdk`` has would leave keys as they
    are without a word: refused, naming the parameters there are."""
    layouts = [_parameters(f) for f in funcs]
    if any(var_keyword for _, var_keyword in layouts):
        return
    known = frozenset().union(*(names for names, _ in layouts)) - {"self"}
    for item in options.ignore:
        if item.split(".")[0] not in known:
            raise TypeError(
                f"ignore={item!r}: no method apirec patches in {sdk} has a parameter "
                f"{item.split('.')[0]!r} (their parameters: {', '.join(sorted(known))})"
            )


def is_sensitive_header(name: str) -> bool:
    """Response headers that identify an account: never stored as they came (the gate's
    one rule for headers, :mod:`apirec.gate.names`)."""
    return is_secret_name(name, HEADERS)


def redact_headers(headers: Any) -> None:
    """``headers`` (a dict of a recorded response) with sensitive values replaced, in place."""
    if isinstance(headers, dict):
        for name in headers:
            if isinstance(name, str) and is_sensitive_header(name):
                headers[name] = REDACTED


def on_error(original: Callable[..., Any], seen: Callable[[BaseException], None]) -> Any:
    """``original`` (function, coroutine function, generator or async generator function)
    calling ``seen`` on any exception it raises, before it goes on: an integration's chance to
    redact what the error carries before it is stored."""
    if inspect.isasyncgenfunction(original):

        @functools.wraps(original)
        async def async_chunks(*args: Any, **kwargs: Any) -> Any:
            try:
                async for chunk in original(*args, **kwargs):
                    yield chunk
            except Exception as error:
                seen(error)
                raise

        return async_chunks

    if inspect.isgeneratorfunction(original):

        @functools.wraps(original)
        def chunks(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from original(*args, **kwargs)
            except Exception as error:
                seen(error)
                raise

        return chunks

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def awaited(*args: Any, **kwargs: Any) -> Any:
            try:
                return await original(*args, **kwargs)
            except Exception as error:
                seen(error)
                raise

        return awaited

    @functools.wraps(original)
    def called(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        except Exception as error:
            seen(error)
            raise

    return called
