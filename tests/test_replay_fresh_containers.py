"""Every replay returns fresh objects, whatever container a model's field is typed as.

pydantic keeps the validated payload's own dicts by reference inside many containers (an
``OrderedDict[str, Any]``, a ``deque``, a ``NamedTuple``, a slots dataclass...): replaying the
same stored answer again and again, a caller's edits to one replay must never show in the next.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

import apirec


class Pair(NamedTuple):
    meta: Any


@dataclasses.dataclass(slots=True)
class Slotted:
    meta: Any


@dataclasses.dataclass
class Plain:
    meta: Any


class Typed(TypedDict):
    meta: Any


def _payload() -> dict[str, Any]:
    return {"tags": ["x"], "deep": {"more": [1, {"k": "v"}]}}


class WithOrderedDict(BaseModel):
    field: OrderedDict[str, Any]


class WithDeque(BaseModel):
    field: deque[Any]


class WithNamedTuple(BaseModel):
    field: Pair


class WithSlots(BaseModel):
    field: Slotted


class WithDataclass(BaseModel):
    field: Plain


class WithMapping(BaseModel):
    field: Mapping[str, Any]


class WithSequence(BaseModel):
    field: Sequence[Any]


class WithDefaultDict(BaseModel):
    field: defaultdict[str, list[Any]]


class WithTypedDict(BaseModel):
    field: Typed


class WithTuple(BaseModel):
    field: tuple[Any, ...]


class WithAny(BaseModel):
    field: Any


# the model, and a value of its field holding the payload
FIELDS: dict[str, tuple[type[BaseModel], Callable[[], Any]]] = {
    "OrderedDict": (WithOrderedDict, lambda: OrderedDict(k=_payload())),
    "deque": (WithDeque, lambda: deque([_payload()])),
    "NamedTuple": (WithNamedTuple, lambda: Pair(meta=_payload())),
    "slots-dataclass": (WithSlots, lambda: Slotted(meta=_payload())),
    "dataclass": (WithDataclass, lambda: Plain(meta=_payload())),
    "Mapping": (WithMapping, lambda: {"k": _payload()}),
    "Sequence": (WithSequence, lambda: [_payload()]),
    "defaultdict": (WithDefaultDict, lambda: defaultdict(list, k=[_payload()])),
    "TypedDict": (WithTypedDict, lambda: Typed(meta=_payload())),
    "tuple-of-Any": (WithTuple, lambda: (_payload(),)),
    "Any": (WithAny, _payload),
}


def _mutate(value: Any) -> None:
    """Edit every dict and list reachable from ``value``, however deep."""
    if isinstance(value, BaseModel):
        for v in vars(value).values():
            _mutate(v)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _mutate(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for v in list(value.values()):
            _mutate(v)
        if isinstance(value, MutableMapping):
            value["MUTATED"] = ["MUTATED"]  # fits list-typed values too
    elif isinstance(value, Sequence | deque) and not isinstance(value, str | bytes):
        for v in list(value):
            _mutate(v)
        if isinstance(value, MutableSequence | deque):
            value.append("MUTATED")


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("kind", list(FIELDS))
def test_replays_of_an_answer_never_share_what_a_caller_changed(
    tmp_path: Path, kind: str, store: str
) -> None:
    model, make = FIELDS[kind]

    @apirec.record(name="answer")
    def answer() -> Any:
        return model(field=make())

    with apirec.recording(tmp_path, mode="record", store=store, trusted_modules=[__name__]):
        recorded = answer().model_dump(mode="json")
    with apirec.recording(
        tmp_path, mode="replay", store=store, repeats="last", trusted_modules=[__name__]
    ) as rec:
        for i in range(5):
            got = answer()
            assert type(got) is model
            assert got.model_dump(mode="json") == recorded, f"replay {i + 1}"
            _mutate(got)
            assert got.model_dump(mode="json") != recorded  # the edit reached the payload
    assert rec.stats.replayed == 5


@pytest.mark.parametrize("store", ["json", "msgpack"])
@pytest.mark.parametrize("kind", list(FIELDS))
def test_replayed_stream_chunks_never_share_what_a_caller_changed(
    tmp_path: Path, kind: str, store: str
) -> None:
    model, make = FIELDS[kind]

    @apirec.record(name="chunks")
    def chunks() -> Any:
        yield model(field=make())
        yield model(field=make())

    with apirec.recording(tmp_path, mode="record", store=store, trusted_modules=[__name__]):
        recorded = [c.model_dump(mode="json") for c in chunks()]
    with apirec.recording(
        tmp_path, mode="replay", store=store, repeats="last", trusted_modules=[__name__]
    ):
        for i in range(5):
            got = list(chunks())
            assert [c.model_dump(mode="json") for c in got] == recorded, f"replay {i + 1}"
            for c in got:
                _mutate(c)
