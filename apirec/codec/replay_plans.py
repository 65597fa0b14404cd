"""How stored answers are decoded on replay, fast, and always into fresh objects.

The first replay of an answer decodes it plainly (:class:`FirstReplay`: validation of the
stored payload, which the recorder then never decodes again: it reads a pristine copy from
the store if the answer is replayed once more). Most answers are replayed once per test.
From the second replay on, a plan made by :func:`prepare` does it: most replayed values are
one pydantic model (a chat completion, an embedding, a stream chunk), and the plan is
``validate(payload)`` on the stored payload when a first validation proved that the model
keeps none of the payload's dicts or lists (a value it cannot look into, such as a deque or
a NamedTuple pydantic kept them in, proves nothing), validation of a fresh copy otherwise (pydantic
keeps values under ``Any`` fields and ``extra`` values by reference, and a caller mutating
them must never change what the next replay returns), or, for long lists (an embedding), a
copy of a validated template.
Everything else goes through :func:`apirec.codec.envelope.decode`, which always builds fresh values.
"""

from __future__ import annotations

import contextlib
import functools
import weakref
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import SchemaValidator

from apirec.codec.envelope import DATA, TYPE, decode, fresh_json
from apirec.codec.model_state import STATE, apply_state, plain_fields, state_applier
from apirec.codec.payload_sharing import IMMUTABLE, container_ids, shares
from apirec.codec.type_resolution import REGISTRY, resolve
from apirec.errors import DecodeError

Plan = Callable[[], Any]
_SCALARS = (str, int, float, bool, type(None))


def plan(data: Any, *, trusted_modules: Iterable[str] = (), strict_types: bool = True) -> Plan:
    """A function returning, per call, what ``decode(data)`` returns (a fresh value)."""
    return prepare(data, trusted_modules=trusted_modules, strict_types=strict_types)[0]


def prepare(
    data: Any, *, trusted_modules: Iterable[str] = (), strict_types: bool = True
) -> tuple[Plan, Any]:
    """:func:`plan`, and the first value: preparing builds one, the first replay gets it."""
    if type(data) in _SCALARS:
        return (lambda: data), data
    trusted = tuple(trusted_modules)
    fast = _model_plan(data, trusted)
    if fast is not None:
        return fast

    def decoded() -> Any:
        return decode(data, trusted_modules=trusted, strict_types=strict_types)

    return decoded, decoded()


class FirstReplay:
    """What ``decode(data)`` returns, without a plan or a copy: for an answer replayed once
    (most are: one per test), the analysis :func:`prepare` does would cost more than it saves.
    The value may hold parts of ``data`` (pydantic keeps ``Any`` values by reference): the
    caller must not decode ``data`` again. Remembers each type name's validator (a stream's
    chunks share one)."""

    def __init__(self, trusted_modules: Iterable[str], strict_types: bool) -> None:
        self._trusted = tuple(trusted_modules)
        self._strict = strict_types
        self._validators: dict[str, Callable[[Any], Any] | None] = {}

    def __call__(self, data: Any) -> Any:
        if type(data) is dict and (len(data) == 2 or (len(data) == 3 and STATE in data)):
            name = data.get(TYPE)
            if type(name) is str:
                validate = self._validators.get(name, _unseen)
                if validate is _unseen:
                    validate = self._validator_of(data)
                if validate is not None:
                    try:
                        value = validate(data[DATA])
                        if len(data) == 3:
                            value = apply_state(value, data[STATE], self._decode)
                        return value
                    except (ValidationError, ValueError, DecodeError):
                        pass  # decode() builds it without validation, or says what is wrong
        return self._decode(data)

    def _decode(self, data: Any) -> Any:
        return decode(data, trusted_modules=self._trusted, strict_types=self._strict)

    def _validator_of(self, data: dict[str, Any]) -> Callable[[Any], Any] | None:
        cls = _model_class(data, self._trusted)
        if cls is None:
            validate = None
        else:
            validate = _validator(cls)
            if validate == cls.model_validate:
                return validate  # pydantic builds the validator on first use: ask again later
        if len(self._validators) < 256:
            self._validators[data[TYPE]] = validate
        return validate


def _unseen(data: Any) -> Any:
    raise AssertionError("a marker, never called")


def once(data: Any, *, trusted_modules: Iterable[str] = (), strict_types: bool = True) -> Any:
    """:class:`FirstReplay` for one value."""
    return FirstReplay(trusted_modules, strict_types)(data)


def _model_class(data: Any, trusted: tuple[str, ...]) -> type[BaseModel] | None:
    """The pydantic model of an envelope ``{"__type__", "__data__": {...}}``, if it is one
    (with a ``"__state__"`` of what the dump loses, or without)."""
    if type(data) is not dict or type(data.get(TYPE)) is not str:
        return None
    if len(data) != 2 and (len(data) != 3 or STATE not in data):
        return None
    name = data[TYPE]
    if type(data.get(DATA)) is not dict or REGISTRY.for_name(name) is not None:
        return None
    try:
        cls = resolve(name, trusted)
    except Exception:  # decode() reports it, with the file and the place
        return None
    return cls if issubclass(cls, BaseModel) else None


def _model_plan(data: Any, trusted: tuple[str, ...]) -> tuple[Plan, Any] | None:
    cls = _model_class(data, trusted)
    if cls is None:
        return None
    if STATE not in data:
        return _validation_plan(cls, data[DATA])
    made = _validation_plan(cls, data[DATA])
    if made is None:
        return None
    base, first = made

    def value(raw: Any) -> Any:
        return decode(raw, trusted_modules=trusted)

    try:
        apply = state_applier(cls, data[STATE])
        first = apply(first, value)
    except (ValueError, DecodeError):  # decode() says what is wrong, and where
        return None
    fields = plain_fields(apply)
    if fields is not None:  # no Python frame of the applier's per replay

        def with_fields() -> Any:
            made = base()
            made.__dict__.update(fields)
            return made

        return with_fields, first

    def with_state() -> Any:
        return apply(base(), value)

    return with_state, first


def _validation_plan(cls: type[BaseModel], payload: Any) -> tuple[Plan, Any] | None:
    try:
        first = cls.model_validate(payload)
    except ValidationError:  # rebuilt without validation: decode() knows how
        return None
    validate = _validator(cls)
    if _has_long_list(payload):
        # Long lists (embeddings, logprobs): copying a validated template is far cheaper than
        # validating each float again, and gives the same objects. The template stays ours.
        with contextlib.suppress(_Uncopyable):
            copy = _copier(first)  # never None for a model
            if copy is not None:
                return copy, copy()
    if shares(first, container_ids(payload)):
        # ``first`` holds parts of the stored payload: validate copies, never hand it out

        def from_copy() -> Any:
            return validate(fresh_json(payload))

        return from_copy, from_copy()
    return functools.partial(validate, payload), first


def _validator(cls: type[BaseModel]) -> Callable[[Any], Any]:
    """``cls.model_validate`` without its Python frame, once pydantic has built it."""
    validator = cls.__pydantic_validator__
    if isinstance(validator, SchemaValidator):
        return validator.validate_python
    return cls.model_validate


def _has_long_list(data: Any, limit: int = 32) -> bool:
    t = type(data)
    if t is dict:
        return any(_has_long_list(v) for v in data.values() if type(v) in (dict, list))
    if t is list:
        if len(data) >= limit:
            return True
        return any(_has_long_list(v) for v in data if type(v) in (dict, list))
    return False


class _Uncopyable(Exception):
    """A value the copier does not know to be immutable: validate instead."""


def _copier(value: Any) -> Plan | None:
    """A function building fresh copies of ``value``, or None when it may be shared as is.

    Built once for the template: models are copied the way pydantic's ``__copy__`` does, with
    every dict, list and model inside them copied too; immutable leaves are shared.
    """
    t = type(value)
    if t in IMMUTABLE or isinstance(value, Enum):
        return None
    if t is list or t is dict:
        members = value if t is list else value.values()
        if set(map(type, members)) <= IMMUTABLE:  # all leaves (1,536 floats): C speed
            shallow: Plan = value.copy
            return shallow
        items = list(enumerate(value)) if t is list else list(value.items())
        subs = [(k, c) for k, v in items if (c := _copier(v)) is not None]
        template = value
        if not subs:
            return template.copy  # type: ignore[no-any-return]

        def copy_container() -> Any:
            out = template.copy()
            for k, c in subs:
                out[k] = c()
            return out

        return copy_container
    if t is tuple:
        parts = [(_copier(v), v) for v in value]
        if all(c is None for c, _ in parts):
            return None
        return lambda: tuple(v if c is None else c() for c, v in parts)
    if isinstance(value, BaseModel) and not getattr(value, "__pydantic_private__", None):
        return _model_copier(value)
    raise _Uncopyable


def _model_copier(model: BaseModel) -> Plan:
    cls = type(model)
    fields = model.__dict__
    subs = [(k, c) for k, v in fields.items() if (c := _copier(v)) is not None]
    extra = model.__pydantic_extra__
    extra_copy = _copier(extra) if extra is not None else None
    fields_set = model.__pydantic_fields_set__
    setattr_ = object.__setattr__

    def copy_model() -> Any:
        new = cls.__new__(cls)
        d = fields.copy()
        for k, c in subs:
            d[k] = c()
        setattr_(new, "__dict__", d)
        setattr_(new, "__pydantic_extra__", extra_copy() if extra_copy else extra)
        setattr_(new, "__pydantic_fields_set__", set(fields_set))
        setattr_(new, "__pydantic_private__", None)
        return new

    return copy_model


def decode_first(once: Callable[[Any], Any], where: Callable[[], str], item: Any) -> Any:
    """A stream's chunk on the first replay: decoded plainly by ``once``, lending the stored
    chunk (the recorder reads a pristine copy for the next replay)."""
    try:
        return once(item)
    except DecodeError as e:
        raise e.located(file=where()) from e.__cause__


class _PlanList(list[Plan]):
    """A list a plan may refer to weakly: an item's callable writes its plan back into it
    without the list keeping its callables alive through them (no reference cycle left when a
    stream is not read to its end)."""

    __slots__ = ("__weakref__",)


def _prepare_item(
    plans: weakref.ref[_PlanList],
    make: Callable[[Any], tuple[Plan, Any]],
    where: Callable[[], str],
    position: int,
    item: Any,
) -> Any:
    try:
        made, value = make(item)
    except DecodeError as e:
        raise e.located(file=where()) from e.__cause__
    kept = plans()
    if kept is not None:
        kept[position] = made
    return value


class LazyPlans:
    """How to decode the items of a stored list (a stream's chunks) on later replays, each
    only when used.

    ``plans`` holds one callable per item: until the item is used, one that prepares its
    plan and puts it in its place; then the plan itself. A replayed stream steps through
    ``plans`` calling each with ``operator.call``: no Python frame of ours between the
    caller's ``async for`` and pydantic. Nothing in ``plans`` refers back to it but weakly,
    so a stream left unread leaves no reference cycle behind.
    """

    __slots__ = ("plans",)

    def __init__(
        self,
        items: list[Any],
        make: Callable[[Any], tuple[Plan, Any]],
        where: Callable[[], str],
    ) -> None:
        self.plans = plans = _PlanList()
        ref = weakref.ref(plans)
        plans.extend(
            functools.partial(_prepare_item, ref, make, where, i, item)
            for i, item in enumerate(items)
        )
