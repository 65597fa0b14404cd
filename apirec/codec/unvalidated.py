"""Rebuilding pydantic models that do not pass their own validation.

Provider SDKs build responses without validation (openai's ``construct``), so a recorded
response may not pass ``model_validate`` (a new enum value, a missing field). Replay must
still return the recorded type with the recorded values, never a dict: build it the way the
SDK did, recursively for nested models. This is the slow path, taken only on failure.
"""

from __future__ import annotations

import types
import typing
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError


def construct_unvalidated(cls: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``cls`` built from ``data`` without validation, nested models included."""
    fields = cls.model_fields
    by_alias = {(f.alias or name): name for name, f in fields.items()}
    for field_name, f in fields.items():  # what dumps by alias wrote, unless a field has it
        if f.serialization_alias:
            by_alias.setdefault(f.serialization_alias, field_name)
    values: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, raw in data.items():
        name = by_alias.get(key) or (key if key in fields else None)
        if name is None:
            extra[key] = raw
        else:
            values[name] = _coerce(fields[name].annotation, raw)
    obj = cls.model_construct(_fields_set=set(values), **values)
    if extra and obj.__pydantic_extra__ is not None:
        obj.__pydantic_extra__.update(extra)
    # a model that ignores extras never dumped any: dropping them is what validation does
    return obj


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        found: list[type[BaseModel]] = []
        for arg in get_args(annotation):
            found.extend(_models_in(arg))
        return found
    return []


def _item_annotation(annotation: Any) -> tuple[Any, Any] | None:
    """(kind, element annotation) for list-like and dict-like annotations, else None."""
    for candidate in (annotation, *get_args(annotation)):
        origin = get_origin(candidate)
        if origin in (list, tuple, set, frozenset, typing.Sequence):
            args = get_args(candidate)
            return list, (args[0] if args else Any)
        if origin is dict:
            args = get_args(candidate)
            return dict, (args[1] if len(args) == 2 else Any)
    return None


def _coerce(annotation: Any, raw: Any) -> Any:
    if isinstance(raw, dict):
        models = _models_in(annotation)
        if models:
            return _as_model(models, raw)
        shape = _item_annotation(annotation)
        if shape is not None and shape[0] is dict:
            return {k: _coerce(shape[1], v) for k, v in raw.items()}
        return raw
    if isinstance(raw, list):
        shape = _item_annotation(annotation)
        if shape is not None and shape[0] is list:
            return [_coerce(shape[1], v) for v in raw]
    return raw


def _as_model(candidates: list[type[BaseModel]], raw: dict[str, Any]) -> BaseModel:
    for model in candidates:
        try:
            return model.model_validate(raw)
        except ValidationError:
            continue

    def overlap(model: type[BaseModel]) -> int:
        names = {f.alias or n for n, f in model.model_fields.items()} | set(model.model_fields)
        return len(names & raw.keys())

    return construct_unvalidated(max(candidates, key=overlap), raw)
