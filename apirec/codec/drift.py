"""Recorded typed values checked against the classes installed now (``apirec drift``).

A recording drifts when the class of a value it holds changed since it was recorded. What
counts as broken is what replay does (:mod:`apirec.codec.envelope`), so the checks reuse the
decoder's own steps rather than a second opinion:

* a pydantic model is validated as replay validates it. When validation fails, replay builds
  the model without validation (:mod:`apirec.codec.unvalidated`): an instance of the class
  that lacks its missing required fields and holds values of the wrong type, which breaks the
  class's contract, so a missing required field or a value that no longer validates breaks
  the recording. Fields the class does not have are reported but break nothing when replay
  still gives a valid instance: kept as extra values (``extra="allow"``), dropped
  (``"ignore"``), or, with ``extra="forbid"``, dropped by the unvalidated build, which breaks
  only if that build differs from validating the rest. What the dump lost (``"__state__"``)
  must still apply to the class, as replay applies it.
* a dataclass is rebuilt field by field: a field the class no longer has fails decoding, and
  a required field the recording lacks is absent on replay; both break.
* an enum value that is no longer a member fails decoding; so does a type that no longer
  resolves (an error class that does not resolve replays as ``apirec.ReplayedError``).

Only types whose package is trusted are checked (resolving may import it, nothing else), as
``apirec verify`` does; the others are reported as not checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError

from apirec.codec.envelope import _CONTAINERS, _SCALAR_DECODERS, DATA, TYPE, decode
from apirec.codec.model_state import STATE, state_applier
from apirec.codec.type_resolution import REGISTRY, Unresolvable, _trusted, resolve
from apirec.errors import DecodeError

# Kinds of findings; ``Finding.breaks`` says whether replay no longer gives the type.
NOT_CHECKED = "not checked"
UNRESOLVED = "unresolvable"
MISSING = "missing field"
INVALID = "invalid value"
UNKNOWN = "unknown field"
NOT_MEMBER = "not a member"
STATE_LOST = "state does not apply"
UNVALIDATED = "replays unvalidated"
UNDECODABLE = "does not decode"
# What validation reports: not drift when the recording was made with the installed version
# (the class is the one it was recorded with; the SDK built the value without validation then
# too), which only the caller, knowing the versions, can tell.
VALIDATION = frozenset({MISSING, INVALID, UNVALIDATED})

_BUILTIN = frozenset({*_CONTAINERS, *_SCALAR_DECODERS, "builtins.dict"})
_NESTED = (dict, list)
_EXTRA = {
    "allow": "kept as an extra value on replay",
    "forbid": "rejected by extra='forbid': dropped on replay, which then skips validation",
}
_DROPPED = "dropped on replay"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with one recorded value of a type, at ``field`` (a path, or "")."""

    kind: str
    field: str
    detail: str
    breaks: bool


Checked = tuple[str, tuple[Finding, ...]]  # a type name and what is wrong with its value
# one level of a model's payload: its unknown keys, and (key, field, path) of the others
_Level = tuple[tuple[Finding, ...], tuple[tuple[str, str, str], ...]]


def field_path(loc: Iterable[int | str]) -> str:
    """``("choices", 0, "delta")`` as ``choices[*].delta``: one path for every item."""
    out = ""
    for part in loc:
        out += "[*]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Checker:
    """Checks the typed values of recordings; remembers what each type name resolves to."""

    def __init__(self, trusted_modules: Iterable[str]) -> None:
        self.trusted = tuple(trusted_modules)
        self._classes: dict[str, type | Finding] = {}
        self._known_keys: dict[type, dict[str, str]] = {}
        self._levels: dict[tuple[type, tuple[str, ...], str], _Level] = {}

    # -- what a recording holds -----------------------------------------------------------

    def body(self, data: Any) -> list[Checked]:
        """Every typed value in a response body (or a stream's chunks), outermost first."""
        out: list[Checked] = []
        try:
            self._visit(data, out)
        except RecursionError:
            out.append(("<body>", (Finding(UNDECODABLE, "", "nested too deeply", True),)))
        return out

    def error(self, data: Mapping[str, Any]) -> list[Checked]:
        """A recorded exception (``response.exception_data``): its class and typed parts."""
        out: list[Checked] = []
        name = data.get("type")
        if data.get("category") == "provider_sdk":  # llama-stack's form, see below
            out.append(self._provider_error(data))
        elif isinstance(name, str):
            cls = self._class(name)
            if isinstance(cls, Finding):
                replayed = dataclasses.replace(cls, detail=cls.detail + _AS_REPLAYED)
                out.append((name, (replayed if cls.breaks else cls,)))
            elif not issubclass(cls, Exception):
                why = "not an Exception class" + _AS_REPLAYED
                out.append((name, (Finding(UNRESOLVED, "", why, True),)))
            else:
                out.append((name, ()))
        self._error_parts(data, out)
        return out

    def _provider_error(self, data: Mapping[str, Any]) -> Checked:
        # patch_openai(rec, keys="llama-stack") rebuilds these as the SDK's class of that name,
        # else as its class for the status code: replay gives an SDK error either way
        name = f"{data.get('provider')}.{data.get('type')}"
        cls = self._class(name)
        if isinstance(cls, Finding):
            why = f"{cls.detail}; replays as the SDK's error class for its status code"
            return name, (dataclasses.replace(cls, detail=why, breaks=False),)
        return name, ()

    def _error_parts(self, data: Mapping[str, Any], out: list[Checked]) -> None:
        for key in ("typed_args", "typed_attributes", "str_attributes"):
            part = data.get(key)
            if isinstance(part, _NESTED):
                self._visit(part, out)

    def _visit(self, data: Any, out: list[Checked]) -> None:
        t = type(data)
        if t is list:
            if not _NESTED_TYPES.isdisjoint(map(type, data)):
                for item in data:
                    self._visit(item, out)
        elif t is dict:
            name = data.get(TYPE)
            if type(name) is str:
                self._envelope(name, data, out)
            else:
                for item in data.values():
                    if type(item) in _NESTED:
                        self._visit(item, out)

    # -- one typed value --------------------------------------------------------------------

    def _envelope(self, name: str, data: dict[str, Any], out: list[Checked]) -> None:
        payload = data.get(DATA)
        if name in _BUILTIN:  # apirec's own value types: nothing of theirs can drift
            self._visit(payload, out)
            return
        cls = self._class(name)
        if isinstance(cls, Finding):
            out.append((name, (cls,)))
            if not cls.breaks:
                self._visit(payload, out)
            return
        if issubclass(cls, BaseModel):
            out.append((name, _guarded(self._model, cls, data)))
            self._visit(data.get(STATE), out)  # typed values the dump lost, decoded on replay
        elif issubclass(cls, Enum):
            out.append((name, _guarded(self._enum, cls, data)))
        elif issubclass(cls, BaseException):
            out.append((name, ()))
            if isinstance(payload, dict):
                self._error_parts(payload, out)
        else:
            out.append((name, tuple(self._dataclass(cls, payload))))
            self._visit(payload, out)

    def _class(self, name: str) -> type | Finding:
        known = self._classes.get(name)
        if known is None:
            known = self._resolve(name)
            self._classes[name] = known
        return known

    def _resolve(self, name: str) -> type | Finding:
        if REGISTRY.for_name(name) is not None:
            return Finding(NOT_CHECKED, "", "added with apirec.register_type", False)
        if not _trusted(name, self.trusted):
            top = name.split(".", 1)[0]
            return Finding(NOT_CHECKED, "", f"not allowed to import (--trust {top})", False)
        try:
            return resolve(name, self.trusted)
        except Unresolvable as e:
            if e.allowed:  # trusted, and no such class: gone or moved
                return Finding(UNRESOLVED, "", "no such class is installed", True)
            # a class apirec does not rebuild by itself: one added with register_type
            return Finding(NOT_CHECKED, "", str(e), False)

    def _model(self, cls: type[BaseModel], data: dict[str, Any]) -> Iterator[Finding]:
        payload = data.get(DATA)
        if type(payload) is not dict and not issubclass(cls, RootModel):
            yield _undecodable(data, self.trusted)
            return
        try:
            value: Any = cls.model_validate(payload)
            errors: list[Any] = []
        except ValidationError as e:
            errors = e.errors(include_url=False, include_context=False, include_input=False)
            try:  # what replay builds instead: the decoder's own fallback
                value = decode({TYPE: data[TYPE], DATA: payload}, trusted_modules=self.trusted)
            except DecodeError as d:
                yield Finding(UNDECODABLE, _place(d), d.reason, True)
                return
        broken = False
        for error in errors:
            kind = error["type"]
            if kind == "extra_forbidden":
                continue  # reported with every unknown field, below
            broken = True
            where = field_path(error["loc"])
            if kind == "missing":
                yield Finding(MISSING, where, "required by the installed class", True)
            else:
                yield Finding(INVALID, where, str(error["msg"]), True)
        if errors and not broken:
            yield from _unconverted(cls, value)
        if STATE in data:
            try:
                state_applier(cls, data[STATE])
            except ValueError as e:
                yield Finding(STATE_LOST, "", str(e), True)
        unknown: list[Finding] = []
        self._unknown(value, payload, "", unknown)
        yield from unknown

    def _unknown(self, value: Any, raw: Any, path: str, out: list[Finding]) -> None:
        """Keys of the recorded payload that no field of the (nested) class reads.

        What a level of a payload holds depends on its class, its keys and its place only:
        each such shape is worked out once (a stream's chunks share a few).
        """
        kind = type(raw)
        if kind is dict:
            cls = type(value)
            if cls is dict:
                where = f"{path}[*]"
                for key, raw_item in raw.items():
                    if type(raw_item) in _NESTED and key in value:
                        self._unknown(value[key], raw_item, where, out)
                return
            shape = (cls, tuple(raw), path)
            level = self._levels.get(shape)
            if level is None:
                level = self._level(cls, raw, path)
                if len(self._levels) < 65536:
                    self._levels[shape] = level
            if level is _ROOT:
                self._unknown(value.root, raw, path, out)
                return
            unknown, nested = level
            out.extend(unknown)
            own = value.__dict__
            for key, name, where in nested:
                item = raw[key]
                if type(item) in _NESTED and name in own:
                    self._unknown(own[name], item, where, out)
        elif kind is list:
            if isinstance(value, RootModel):
                self._unknown(value.root, raw, path, out)
            elif (type(value) is list or type(value) is tuple) and not _NESTED_TYPES.isdisjoint(
                map(type, raw)
            ):
                where = f"{path}[*]"
                for item, raw_item in zip(value, raw, strict=False):
                    self._unknown(item, raw_item, where, out)

    def _level(self, cls: type, raw: dict[str, Any], path: str) -> _Level:
        if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            return (), ()  # a value that is not a model: nothing to compare its keys with
        if issubclass(cls, RootModel):
            return _ROOT
        keys = self._keys(cls)
        unknown: list[Finding] = []
        nested: list[tuple[str, str, str]] = []
        what = _EXTRA.get(str(cls.model_config.get("extra")), _DROPPED)
        for key in raw:
            name = keys.get(key)
            where = f"{path}.{key}" if path else key
            if name is None:
                unknown.append(Finding(UNKNOWN, where, what, False))
            else:
                nested.append((key, name, where))
        return tuple(unknown), tuple(nested)

    def _keys(self, cls: type[BaseModel]) -> dict[str, str]:
        """The payload keys validation reads into a field: name, alias and validation alias."""
        keys = self._known_keys.get(cls)
        if keys is None:
            keys = {}
            for name, field in cls.model_fields.items():
                keys[name] = name
                for alias in (field.alias, field.validation_alias, field.serialization_alias):
                    choices = getattr(alias, "choices", None)
                    for key in choices if choices is not None else [alias]:
                        if isinstance(key, str):
                            keys.setdefault(key, name)
            self._known_keys[cls] = keys
        return keys

    def _enum(self, cls: type[Enum], data: dict[str, Any]) -> Iterator[Finding]:
        try:
            decode(data, trusted_modules=self.trusted)
        except DecodeError:
            members = ", ".join(repr(m.value) for m in list(cls)[:8])
            more = ", ..." if len(cls) > 8 else ""
            value = repr(data.get(DATA))[:80]
            yield Finding(NOT_MEMBER, "", f"{value}; members: {members}{more}", True)

    def _dataclass(self, cls: type, payload: Any) -> Iterator[Finding]:
        if type(payload) is not dict:
            yield Finding(UNDECODABLE, "", f"needs an object, found {type(payload).__name__}", True)
            return
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for key in payload:
            if key not in fields:
                yield Finding(UNKNOWN, key, "the class has no such field: decoding fails", True)
        for name, f in fields.items():
            if name not in payload and f.default is dataclasses.MISSING:
                why = (
                    "required by the installed class"
                    if f.default_factory is dataclasses.MISSING
                    else "its default_factory is not run on replay: absent"
                )
                yield Finding(MISSING, name, why, True)


_NESTED_TYPES = frozenset(_NESTED)
_ROOT: _Level = ((), (("", "", "<root>"),))  # a root model: its root has the keys
_AS_REPLAYED = "; replays as apirec.ReplayedError"


def _unconverted(cls: type[BaseModel], value: Any) -> Iterator[Finding]:
    """The fields of ``value`` (built without validation, as replay builds a model whose
    extra="forbid" rejects an unknown field) that differ from validating its own data: values
    validation converts (a datetime from its text) stay as stored."""
    why = "extra='forbid' rejects the unknown fields, so replay skips validation: stays"
    try:
        dumped = value.model_dump(by_alias=True, exclude_unset=True, warnings=False)
        valid = cls.model_validate(dumped)
    except Exception:  # not even its own dump validates
        yield Finding(
            UNVALIDATED, "", "its data does not validate without the unknown fields", True
        )
        return
    if valid == value:
        return
    own, converted = value.__dict__, valid.__dict__
    for name in sorted(own.keys() | converted.keys()):
        if own.get(name, _ABSENT) != converted.get(name, _ABSENT):
            stored = type(own.get(name)).__name__
            wanted = type(converted.get(name)).__name__
            yield Finding(UNVALIDATED, name, f"{why} {stored}, not {wanted}", True)


_ABSENT = object()


def _guarded(
    check: Callable[[Any, Any], Iterator[Finding]], cls: type, data: Any
) -> tuple[Finding, ...]:
    """``check``'s findings; a class whose own code fails on this data (a validator raising
    TypeError) fails decoding too, where the decoder turns it into a DecodeError."""
    try:
        return tuple(check(cls, data))
    except RecursionError:
        raise
    except Exception as e:
        return (Finding(UNDECODABLE, "", f"{type(e).__name__}: {str(e)[:300]}", True),)


def _undecodable(data: dict[str, Any], trusted: tuple[str, ...]) -> Finding:
    try:
        decode(data, trusted_modules=trusted)
    except DecodeError as e:
        return Finding(UNDECODABLE, _place(e), e.reason, True)
    return Finding(UNDECODABLE, "", "not the data of a model", True)  # pragma: no cover


def _place(error: DecodeError) -> str:
    """The decoder's ``$.a[3].b`` as a field path inside the value."""
    return error.place.lstrip("$").lstrip(".")
