"""Binding follows Python's own rules, and calls Python tells apart get different keys.

A positional-only parameter's name may reappear in ``**kwargs``; a keyword named like the
``*args`` parameter is a keyword argument, not the ``*args`` tuple. Each test records real
calls through ``@apirec.record``, then replays them and checks every call got its own answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import apirec


@apirec.record(name="binding.send")
def send(path: str, /, **params: Any) -> dict[str, Any]:
    return {"path": path, "params": params}


@apirec.record(name="binding.send_default")
def send_default(path: str = "/", /, **params: Any) -> dict[str, Any]:
    return {"path": path, "params": params}


@apirec.record(name="binding.log")
def log(*args: Any, **kw: Any) -> dict[str, Any]:
    return {"args": list(args), "kw": kw}


@apirec.record(name="binding.only_args")
def only_args(*args: Any) -> list[Any]:
    return list(args)


# (function, args, kwargs): each call below is a different call to Python
CALLS = [
    (send, ("/x",), {"path": "a"}),
    (send, ("/x",), {}),
    (send, ("a",), {}),
    (send, ("/x",), {"other": "a"}),
    (send_default, (), {"path": "a"}),
    (send_default, ("a",), {}),
    (send_default, (), {}),
    (log, ("x",), {"args": 1}),
    (log, ("x",), {"kw": 1}),
    (log, (), {"args": [1, 2]}),
    (log, (1, 2), {}),
    (log, (), {"kw": {"args": [1, 2]}}),
    (log, (), {"args": [1, 2], "kw": 3}),
    (log, (), {"**kw": {"args": [1, 2]}}),
]


def direct(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return func.__wrapped__(*args, **kwargs)


@pytest.mark.parametrize(("func", "args", "kwargs"), CALLS)
def test_calls_python_accepts_are_accepted(func, args, kwargs, tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        assert func(*args, **kwargs) == direct(func, args, kwargs)


def test_calls_python_tells_apart_get_their_own_keys_and_answers(tmp_path):
    with apirec.recording(tmp_path, mode="record") as rec:
        live = [func(*args, **kwargs) for func, args, kwargs in CALLS]
    assert rec.stats.recorded == len(CALLS)
    keys = {json.loads(p.read_text())["request"]["key"] for p in tmp_path.rglob("*.json")}
    assert len(keys) == len(CALLS)
    with apirec.recording(tmp_path, mode="replay") as replay:
        assert [func(*args, **kwargs) for func, args, kwargs in CALLS] == live
    assert replay.stats.replayed == len(CALLS) and replay.stats.missed == 0


@pytest.mark.parametrize(
    ("func", "args", "kwargs", "message"),
    [
        (send, (), {"path": "a"}, r"missing 1 required .*'path'"),
        (only_args, (), {"args": 1}, "unexpected keyword argument 'args'"),
    ],
)
def test_calls_python_refuses_are_refused_before_the_call(func, args, kwargs, message, tmp_path):
    with pytest.raises(TypeError):
        direct(func, args, kwargs)
    with apirec.recording(tmp_path, mode="record"), pytest.raises(TypeError, match=message):
        func(*args, **kwargs)
    assert list(tmp_path.rglob("*.json")) == []


class _Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self, a: int, b: int = 2) -> int:
        return a + b


def test_signatures_are_worked_out_once_per_function_and_unhashable_callables_still_bind():
    from apirec.keys.binding import Binding, signature

    def create(self, model: str, *, timeout: float | None = None) -> None: ...

    assert signature(create) is signature(create)  # patched into every test: cached
    assert list(signature(create).parameters) == ["self", "model", "timeout"]
    unhashable = _Unhashable()
    assert list(signature(unhashable).parameters) == ["a", "b"]
    assert Binding(unhashable, name="u").bind(None, (1,), {"b": 3}) == {"a": 1, "b": 3}


@apirec.record(name="binding.area")
def area(width: float, height: float = 1.0, *, unit: str = "m") -> str:
    return f"{width * height}{unit}"


def test_keywords_bind_as_positional_arguments_and_defaults_drop_out(tmp_path):
    """A call made with keywords only (an SDK's call, bound in one step) keys as the same
    call made positionally, and arguments equal to their defaults are left out either way."""
    with apirec.recording(tmp_path, mode="record"):
        assert area(2.0) == "2.0m"
    with apirec.recording(tmp_path, mode="replay", repeats="last") as rec:
        for answer in (area(width=2.0), area(2.0, 1.0), area(width=2.0, height=1.0, unit="m")):
            assert answer == "2.0m"
    assert rec.stats.replayed == 3 and rec.stats.missed == 0
