"""A recorded pydantic model checked against its class as installed now (``apirec drift``).

Replay validates the stored dump (:mod:`apirec.codec.envelope`); when validation fails it
builds the model without validation (:mod:`apirec.codec.unvalidated`): an instance of the
class that lacks the missing required fields and holds values of the wrong type, which breaks
the class's contract. So a missing required field and a value that no longer validates break
the recording. Fields the class does not have are reported, and break nothing when replay still
gives a valid instance: kept as extra values (``extra="allow"``), dropped (``"ignore"``), or,
with ``extra="forbid"``, dropped by the unvalidated build, which breaks only where that build
differs from validating the rest (a datetime left as its text). What the dump lost
(``"__state__"``) must still apply to the class, as replay applies it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError

from apirec.codec.drift_findings import (
    INVALID,
    MISSING,
    STATE_LOST,
    UNDECODABLE,
    UNKNOWN,
    UNVALIDATED,
    Finding,
    field_path,
)
from apirec.codec.envelope import DATA, TYPE, decode
from apirec.codec.model_state import STATE, state_applier
from apirec.errors import DecodeError

_NESTED = (dict, list)
_NESTED_TYPES = frozenset(_NESTED)
_EXTRA = {
    "allow": "kept as an extra value on replay",
    "forbid": "rejected by extra='forbid': dropped on replay, which then skips validation",
}
_DROPPED = "dropped on replay"
_ABSENT = object()


# one level of a model's payload: its unknown keys, and (key, field, path) of the others
_Level = tuple[tuple[Finding, ...], tuple[tuple[str, str, str], ...]]
_ROOT: _Level = ((), (("", "", "<root>"),))  # a root model: its root has the keys


class ModelChecker:
    """Checks recorded models; remembers the keys of each class and each payload shape."""

    def __init__(self, trusted_modules: tuple[str, ...]) -> None:
        self.trusted = trusted_modules
        self._known_keys: dict[type, dict[str, str]] = {}
        self._levels: dict[tuple[type, tuple[str, ...], str], _Level] = {}

    def check(self, cls: type[BaseModel], data: dict[str, Any]) -> Iterator[Finding]:
        """What is wrong with the model envelope ``data`` of ``cls``, as replay decodes it."""
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
            stored, wanted = (_kind(own, name), _kind(converted, name))
            yield Finding(UNVALIDATED, name, f"{why} {stored}, not {wanted}", True)


_ABSENT = object()


def _kind(values: dict[str, Any], name: str) -> str:
    return type(values[name]).__name__ if name in values else "absent"


def _undecodable(data: dict[str, Any], trusted: tuple[str, ...]) -> Finding:
    try:
        decode(data, trusted_modules=trusted)
    except DecodeError as e:
        return Finding(UNDECODABLE, _place(e), e.reason, True)
    return Finding(UNDECODABLE, "", "not the data of a model", True)  # pragma: no cover


def _place(error: DecodeError) -> str:
    """The decoder's ``$.a[3].b`` as a field path inside the value."""
    return error.place.lstrip("$").lstrip(".")
