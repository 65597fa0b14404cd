"""The decorator and the patch helper: where calls are intercepted.

Both wrap with wrapt, so a decorated function keeps its name, signature, docstring and its
nature (sync or async, function or method). With no active recording, or in ``live`` mode,
the wrapper calls straight through.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from types import ModuleType
from typing import Any, TypeVar, overload

import wrapt

from apirec.errors import called
from apirec.gate.rules import Scrub
from apirec.keys.binding import signature
from apirec.keys.spec import Keying, KeySpec, Normalizer
from apirec.record import error_policy
from apirec.record.context import recording_lookup
from apirec.record.error_policy import StoreErrors
from apirec.record.refused_on_tests import refuse_a_test
from apirec.record.sequences import parse_repeats

F = TypeVar("F", bound=Callable[..., Any])
Args = tuple[Any, ...]
Kwargs = dict[str, Any]


def _is_async(func: Callable[..., Any]) -> bool:
    raw = getattr(func, "__func__", func)
    return inspect.iscoroutinefunction(raw) or inspect.iscoroutinefunction(inspect.unwrap(raw))


def _is_async_generator(func: Callable[..., Any]) -> bool:
    raw = getattr(func, "__func__", func)
    return inspect.isasyncgenfunction(raw) or inspect.isasyncgenfunction(inspect.unwrap(raw))


def _is_generator(func: Callable[..., Any]) -> bool:
    raw = inspect.unwrap(getattr(func, "__func__", func))
    return inspect.isgeneratorfunction(raw) or inspect.isasyncgenfunction(raw)


def _default_name(func: Callable[..., Any]) -> str:
    raw = getattr(func, "__func__", func)
    return f"{getattr(raw, '__module__', '?')}.{getattr(raw, '__qualname__', repr(raw))}"


def _check_ignore(func: Callable[..., Any], ignore: list[str]) -> None:
    """A name in ``ignore`` that no parameter has is a typo: it would leave the key unstable."""
    if not ignore:
        return
    raw = getattr(func, "__func__", func)
    try:
        params = signature(raw).parameters
    except (TypeError, ValueError):  # builtins without a signature: nothing to check against
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    lowered = {n.lower().replace("-", "_") for n in params}
    for item in ignore:
        head = item.split(".", 1)[0]
        if head not in params and head.lower().replace("-", "_") not in lowered:
            name = getattr(raw, "__name__", repr(raw))
            raise TypeError(
                f"ignore={item!r}: {called(name)} has no parameter {head!r} "
                f"(its parameters: {', '.join(params)})"
            )


class RecordedFunction(wrapt.FunctionWrapper):  # type: ignore[type-arg]
    """A function wrapped by apirec; ``__apirec_spec__`` holds how its calls are keyed."""

    _self_spec: KeySpec

    @property
    def __apirec_spec__(self) -> KeySpec:
        return self._self_spec


def _make_wrapper(spec: KeySpec, is_async: bool, async_stream: bool) -> Callable[..., Any]:
    # Every call of a decorated function runs this, recording or not: active_recording()
    # inlined, and nothing else before calling through.
    get, stack = recording_lookup()

    def wrapper(wrapped: Callable[..., Any], instance: Any, args: Args, kwargs: Kwargs) -> Any:
        rec = get()
        if rec is None or not rec.is_open:
            if not stack:
                return wrapped(*args, **kwargs)
            rec = stack[-1]
        if rec.passes_through:  # live mode (with no record budget to measure for)
            rec.count_live()
            return wrapped(*args, **kwargs)
        if is_async:
            return rec.call_async(spec, wrapped, instance, args, kwargs)
        return rec.call_sync(spec, wrapped, instance, args, kwargs, async_stream=async_stream)

    return wrapper


def wrap(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    ignore: Iterable[str] = (),
    redact: Iterable[str] = (),
    normalize: Normalizer | None = None,
    shared: bool = False,
    float_digits: int = 6,
    keying: Keying | None = None,
    store_errors: StoreErrors | None = None,
    repeats: str | None = None,
    own_kind: bool = False,
    service_errors: tuple[type[BaseException], ...] | None = None,
    scrub: Iterable[Scrub] = (),
) -> RecordedFunction:
    """Wrap ``func`` so its calls go to the active recording.

    ``keying`` replaces apirec's keys and file names by another format's
    (:class:`apirec.keys.spec.Keying`). ``own_kind``: the kind of stream ``func`` returns
    is its own (``@record``), not the caller's choice among an SDK's sync and async twins.
    ``service_errors``: for an SDK's method, its error classes that come from the service;
    other errors it raises before the service answered are not stored
    (:func:`apirec.record.error_policy.from_service`).
    """
    if isinstance(func, RecordedFunction):
        func = func.__wrapped__
    if isinstance(ignore, str) or isinstance(redact, str):
        raise TypeError("ignore= and redact= take a list of names, not a single string")
    if normalize is not None and not callable(normalize):
        raise TypeError(f"normalize= takes a callable, not {type(normalize).__name__}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name= takes a string, not {type(name).__name__}")
    if store_errors is not None:
        error_policy.check(store_errors)
    if repeats is not None:
        parse_repeats(repeats)
    ignore = list(ignore)
    _check_ignore(func, ignore)
    spec = KeySpec(
        func,
        name=name or _default_name(func),
        ignore=ignore,
        redact=redact,
        normalize=normalize,
        shared=shared,
        float_digits=float_digits,
        keying=keying,
        store_errors=store_errors,
        repeats=repeats,
        # a generator function's answers are streams: a stored value is not one of them
        own_kind=("generator" if _is_generator(func) else "function") if own_kind else False,
        service_errors=service_errors,
        scrub=scrub,
    )
    # An async generator function is called, not awaited: the sync path, an async stream.
    wrapper = RecordedFunction(
        func, _make_wrapper(spec, _is_async(func), async_stream=_is_async_generator(func))
    )
    wrapper._self_spec = spec
    return wrapper


@overload
def record(func: F, /) -> F: ...
@overload
def record(
    *,
    name: str | None = None,
    ignore: Iterable[str] = (),
    redact: Iterable[str] = (),
    normalize: Normalizer | None = None,
    shared: bool = False,
    float_digits: int = 6,
    store_errors: StoreErrors | None = None,
    repeats: str | None = None,
    scrub: Iterable[Scrub] = (),
) -> Callable[[F], F]: ...
def record(
    func: F | None = None,
    /,
    *,
    name: str | None = None,
    ignore: Iterable[str] = (),
    redact: Iterable[str] = (),
    normalize: Normalizer | None = None,
    shared: bool = False,
    float_digits: int = 6,
    store_errors: StoreErrors | None = None,
    repeats: str | None = None,
    scrub: Iterable[Scrub] = (),
) -> F | Callable[[F], F]:
    """Record and replay the calls of a function or method.

    ``@apirec.record`` or ``@apirec.record(name=..., ignore=[...], normalize=..., shared=...)``
    on sync and async functions and on instance, class and static methods. ``name`` is the
    function's name in keys and recordings (default ``module.QualName``); ``ignore`` drops
    parameters or dotted paths into dict arguments from the key and the stored arguments;
    ``redact`` adds names to the default secret list; ``normalize`` maps the canonical
    arguments to those hashed and stored; ``shared=True`` keys the call without the test id.
    ``scrub`` adds regular expressions (or callables ``str -> str``) that the write gate
    replaces in this function's requests, keys and answers.
    ``store_errors`` overrides the recording's choice of which errors this function's calls
    store (``"permanent"``: all but transient ones, ``"all"``, or a callable
    ``(exception) -> bool``). ``repeats`` overrides the recording's choice of what a call past
    the end of its recorded sequence gets (``"exact"``: a miss, ``"last"``: the last answer).
    """
    options: dict[str, Any] = {
        "name": name,
        "ignore": ignore,
        "redact": redact,
        "normalize": normalize,
        "shared": shared,
        "float_digits": float_digits,
        "store_errors": store_errors,
        "repeats": repeats,
        "own_kind": True,  # the user's function: a stream of the other kind is not its answer
        "scrub": scrub,
    }

    def decorate(f: F) -> F:
        refuse_a_test(f)
        return wrap(f, **options)  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


class Patch:
    """Replaces ``"pkg.module.Class.method"`` by a recorded wrapper until stopped.

    Use as a context manager (``with apirec.patch(...)``) or through ``Recording.patch``.
    Patching a target that apirec already wraps replaces that wrapper for the duration
    instead of stacking a second one. Patches of one target may stop in any order: the one
    started last among those still active is in place, and the original comes back when the
    last one stops.
    """

    def __init__(self, target: str, **options: Any) -> None:
        self.target = target
        self.options = options
        self._place: _Place | None = None
        self._wrapper: Any = None
        self.active = False

    def start(self) -> Patch:
        if self.active:
            return self
        parent, attribute, current, had_own = _resolve_target(self.target)
        options = dict(self.options)
        if "name" not in options or options["name"] is None:
            options["name"] = self.target
        with _places_lock:
            place = _places.get((id(parent), attribute))
            if place is None or place.parent is not parent:
                place = _Place(parent, attribute, current, had_own)
                _places[(id(parent), attribute)] = place
            # the original the first patch found, not an apirec wrapper still in place
            original = _unwrapped(place.original)
            if isinstance(original, property):  # its getter is what gets called
                getter = self.build(original.fget, options) if original.fget else None
                self._wrapper = property(getter, original.fset, original.fdel, original.__doc__)
            else:
                self._wrapper = self.build(original, options)
            self._place = place
            place.patches.append(self)
            setattr(parent, attribute, self._wrapper)
        self.active = True
        return self

    def build(self, original: Any, options: dict[str, Any]) -> Any:
        """The replacement installed for ``original``; integrations override this."""
        return wrap(original, **options)

    def stop(self) -> None:
        if not self.active or self._place is None:
            return
        place = self._place
        with _places_lock:
            was_installed = place.patches[-1] is self
            place.patches.remove(self)
            if not place.patches:
                del _places[(id(place.parent), place.attribute)]
                if place.had_own:
                    setattr(place.parent, place.attribute, place.original)
                else:
                    delattr(place.parent, place.attribute)
            elif was_installed:  # the latest patch still active takes its place again
                setattr(place.parent, place.attribute, place.patches[-1]._wrapper)
        self.active = False

    def __enter__(self) -> Patch:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Place:
    """One patched attribute: what was there before any patch, and the patches active on it
    in the order they started (the last one is installed)."""

    def __init__(self, parent: Any, attribute: str, original: Any, had_own: bool) -> None:
        self.parent = parent
        self.attribute = attribute
        self.original = original
        self.had_own = had_own
        self.patches: list[Patch] = []


# The attributes patched now, by (id(parent), name): patches of one target, started and
# stopped by recordings that may close in any order, share what they must restore.
_places: dict[tuple[int, str], _Place] = {}
_places_lock = threading.Lock()


def _unwrapped(current: Any) -> Any:
    """The original behind an apirec replacement, so patches never stack."""
    if isinstance(current, RecordedFunction):
        return current.__wrapped__
    # replacements built by integrations (Patch.build) name what they replace
    return getattr(current, "__apirec_original__", current)


def _imported_parent(parts: list[str]) -> Any:
    """The parent object through modules already imported (no failed imports), or None."""
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is not None:
            parent: Any = module
            for attr in parts[split:-1]:
                parent = getattr(parent, attr, None)
                if parent is None:
                    return None
            return parent
    return None


def _import_parent(target: str, parts: list[str]) -> Any:
    module = None
    split = len(parts) - 1
    while split > 0:
        try:
            module = importlib.import_module(".".join(parts[:split]))
            break
        except ImportError:
            split -= 1
    if module is None:
        raise ValueError(f"cannot patch {target!r}: no module of that path can be imported")
    parent: Any = module
    for attr in parts[split:-1]:
        try:
            parent = getattr(parent, attr)
        except AttributeError:
            raise ValueError(f"cannot patch {target!r}: {attr!r} not found") from None
    return parent


def _resolve_target(target: str) -> tuple[Any, str, Any, bool]:
    """(parent object, attribute name, raw attribute, defined on the parent itself)."""
    parts = target.split(".")
    if len(parts) < 2:
        raise ValueError(f"cannot patch {target!r}: give a dotted path such as 'pkg.module.func'")
    parent = _imported_parent(parts) or _import_parent(target, parts)
    attribute = parts[-1]
    own: Mapping[str, Any] = vars(parent) if hasattr(parent, "__dict__") else {}
    if attribute in own:
        return parent, attribute, own[attribute], True
    if isinstance(parent, type):
        for klass in parent.__mro__[1:]:
            if attribute in vars(klass):
                return parent, attribute, vars(klass)[attribute], False
    elif not isinstance(parent, ModuleType) and callable(getattr(type(parent), attribute, None)):
        # an instance's method: this instance gets its own recorded (bound) method until the
        # patch stops; the class and its other instances are left alone
        return parent, attribute, getattr(parent, attribute), False
    raise ValueError(f"cannot patch {target!r}: {attribute!r} not found on {parent!r}")


def patch(target: str, **options: Any) -> Patch:
    """Record and replay calls of ``target``, code you do not own, for a ``with`` block.

    ``target`` is a dotted path, ``"openai.resources.chat.completions.AsyncCompletions.create"``;
    the options are those of :func:`record`. Calls go to whichever recording is active.
    """
    return Patch(target, **options)
