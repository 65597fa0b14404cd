"""Where a value refers back to itself: the place named when a result cannot be stored.

Walks what :func:`apirec.codec.envelope.encode` walks (dicts, lists, tuples, sets, pydantic
models, dataclasses) without recursion, so it works on exactly the values that exhausted the
stack, and visits each object once, so shared parts do not make it slow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel


def _children(value: Any) -> Iterator[tuple[Any, str]]:
    """Each child and the step of the path to it."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield v, f".{k}" if type(k) is str else f"[{k!r}]"
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield v, f"[{i}]"
    elif isinstance(value, set | frozenset):
        for v in value:
            yield v, "{}"
    elif isinstance(value, BaseModel):
        fields = dict(value.__dict__)
        fields.update(value.__pydantic_extra__ or {})
        for name, v in fields.items():
            yield v, f".{name}"
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield getattr(value, field.name, None), f".{field.name}"


def _walks_into(value: Any) -> bool:
    return isinstance(value, dict | list | tuple | set | frozenset | BaseModel) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    )


def find_cycle(value: Any) -> tuple[str, str] | None:
    """``(place, target)``: the first place (a JSON path from ``$``) whose value is its own
    ancestor at ``target``; None when ``value`` holds no cycle."""
    on_path = {id(value): 0}  # ancestors of the object being walked: id -> depth
    done: set[int] = set()  # walked to the end: no cycle through them
    stack = [(value, _children(value))]
    steps: list[str] = []  # the path to the object on top of the stack (built once, at the end)
    while stack:
        obj, children = stack[-1]
        for child, step in children:
            if not _walks_into(child) or id(child) in done:
                continue
            depth = on_path.get(id(child))
            if depth is not None:
                return "$" + "".join(steps) + step, "$" + "".join(steps[:depth])
            on_path[id(child)] = len(stack)
            stack.append((child, _children(child)))
            steps.append(step)
            break
        else:
            stack.pop()
            if steps:
                steps.pop()
            del on_path[id(obj)]
            done.add(id(obj))
    return None
