"""Recorded typed values checked against the classes installed now (``apirec drift``).

A recording drifts when the class of a value it holds changed since it was recorded. What
counts as broken is what replay does (:mod:`apirec.codec.envelope`), so the checks reuse the
decoder's own steps rather than a second opinion:

* a pydantic model is checked by :mod:`apirec.codec.model_drift`: validated as replay
  validates it, with what replay builds when validation fails;
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
from enum import Enum
from typing import Any

from pydantic import BaseModel

from apirec.codec.drift_findings import (
    MISSING,
    NOT_CHECKED,
    NOT_MEMBER,
    UNDECODABLE,
    UNKNOWN,
    UNRESOLVED,
    Finding,
)
from apirec.codec.envelope import _CONTAINERS, _SCALAR_DECODERS, DATA, TYPE, decode
from apirec.codec.model_drift import ModelChecker
from apirec.codec.model_state import STATE
from apirec.codec.type_resolution import REGISTRY, Unresolvable, _trusted, resolve
from apirec.errors import DecodeError

_BUILTIN = frozenset({*_CONTAINERS, *_SCALAR_DECODERS, "builtins.dict"})
_NESTED = (dict, list)
_NESTED_TYPES = frozenset(_NESTED)
_AS_REPLAYED = "; replays as apirec.ReplayedError"
Checked = tuple[str, tuple[Finding, ...]]  # a type name and what is wrong with its value


class Checker:
    """Checks the typed values of recordings; remembers what each type name resolves to."""

    def __init__(self, trusted_modules: Iterable[str]) -> None:
        self.trusted = tuple(trusted_modules)
        self._classes: dict[str, type | Finding] = {}
        self._models = ModelChecker(self.trusted)

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
            out.append((name, _guarded(self._models.check, cls, data)))
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
