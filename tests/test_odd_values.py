"""Odd argument values are keyed and stored losslessly; odd results fail clearly.

Text cut mid-emoji (a lone surrogate), dict keys that are ints where others are strings, ints
beyond Python's 4,300-digit text limit: each records, is written to the store and replays,
under keys of their own. A result holding a reference cycle is an ``apirec.EncodeError`` naming
the function and the place of the cycle, and nothing is written.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import apirec

CALLS: list[Any] = []


@apirec.record(name="odd.echo")
def echo(value: Any) -> dict[str, Any]:
    CALLS.append(value)
    return {"call": len(CALLS)}


HUGE = 7**6000  # 5,071 digits

# values in pairs that Python tells apart: each must get its own key and answer
ODD = {
    "lone surrogate": "cut mid-emoji \ud83d",
    "other lone surrogate": "cut mid-emoji \ud83e",
    "no surrogate": "cut mid-emoji ",
    "surrogate in a dict key": {"k\udc80": 1},
    "int dict key": {1: "x"},
    "str dict key": {"1": "x"},
    "mixed dict keys": {1: "x", "1": "y", None: "z"},
    "huge int": HUGE,
    "huge int + 1": HUGE + 1,
    "huge int in a list": [HUGE, -HUGE],
    "its text": f"int:{hex(HUGE)}",
    "int beyond 64 bits": 2**80,
}


def entries(root: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))]


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_odd_arguments_are_keyed_apart_stored_and_replayed(store, tmp_path):
    with apirec.recording(tmp_path, mode="record", store=store) as rec:
        answers = {name: echo(value) for name, value in ODD.items()}
    assert rec.stats.recorded == len(ODD)
    with apirec.recording(tmp_path, mode="replay", store=store) as replay:
        assert {name: echo(value) for name, value in ODD.items()} == answers
    assert replay.stats.missed == 0
    assert len({a["call"] for a in answers.values()}) == len(ODD)  # no answer shared


def test_a_lone_surrogate_is_stored_losslessly(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        echo(ODD["lone surrogate"])
    (entry,) = entries(tmp_path)
    assert entry["request"]["args"] == {"value": ODD["lone surrogate"]}


def test_int_and_str_dict_keys_are_told_apart_in_the_store(tmp_path):
    with apirec.recording(tmp_path, mode="record"):
        echo({1: "x"})
        echo({"1": "x"})
    stored = [entry["request"]["args"]["value"] for entry in entries(tmp_path)]
    assert {"1": "x"} in stored
    assert {"__type__": "builtins.dict", "__data__": [[1, "x"]]} in stored


# -- results that cannot be stored --------------------------------------------------------------


@dataclasses.dataclass
class Folder:
    name: str
    items: list[Any] = dataclasses.field(default_factory=list)
    parent: Folder | None = None


class Node(BaseModel):
    name: str
    children: list[Any] = []


def cyclic_dict() -> Any:
    value: dict[str, Any] = {"a": [1, {}]}
    value["a"][1]["back"] = value
    return value


def cyclic_dataclass() -> Any:
    root = Folder("root")
    root.items.append(Folder("child", parent=root))
    return {"tree": root}


def cyclic_model() -> Any:
    node = Node(name="n", children=[Node(name="leaf", children=[])])
    node.children[0].children.append(node)
    return [node]


def cyclic_list() -> Any:
    value: list[Any] = [0, (1, 2)]
    value.append(value)
    return value


@pytest.mark.parametrize(
    ("make", "place", "target"),
    [
        (cyclic_dict, r"\$\.a\[1\]\.back", r"\$"),
        (cyclic_dataclass, r"\$\.tree\.items\[0\]\.parent", r"\$\.tree"),
        (cyclic_model, r"\$\[0\]\.children\[0\]\.children\[0\]", r"\$\[0\]"),
        (cyclic_list, r"\$\[2\]", r"\$"),
    ],
)
def test_a_result_holding_a_cycle_is_an_encode_error_and_nothing_is_written(
    make, place, target, tmp_path
):
    ran = []

    @apirec.record(name="odd.graph")
    def graph() -> Any:
        ran.append(True)
        return make()

    with apirec.recording(tmp_path, mode="record") as rec:
        with pytest.raises(apirec.EncodeError) as info:
            graph()
        assert ran == [True]  # the real call ran: the caller still gets a clear error
        assert echo("after") == {"call": len(CALLS)}  # the recording goes on
    message = str(info.value)
    assert "odd.graph()" in message and "cycle" in message
    assert re.search(rf"{place} refers back to {target};", message), message
    assert [e["request"]["function"] for e in entries(tmp_path)] == ["odd.echo"]
    assert rec.stats.recorded == 1


def test_a_result_nested_too_deeply_is_an_encode_error(tmp_path):
    @apirec.record(name="odd.deep")
    def deep() -> Any:
        value: list[Any] = []
        for _ in range(10_000):
            value = [value]
        return value

    with (
        apirec.recording(tmp_path, mode="record"),
        pytest.raises(apirec.EncodeError, match=r"odd\.deep\(\).*nested too deeply"),
    ):
        deep()
    assert entries(tmp_path) == []


@apirec.record(name="odd.power")
def power(base: int, exponent: int) -> dict[str, Any]:
    return {"value": base**exponent, "negative": -(base**exponent), "small": 2**70}


@pytest.mark.parametrize("store", ["json", "msgpack"])
def test_an_int_past_the_text_limit_in_a_result_is_stored_and_replayed(store, tmp_path):
    with apirec.recording(tmp_path, mode="record", store=store):
        recorded = power(7, 6000)
    with apirec.recording(tmp_path, mode="replay", store=store):
        replayed = power(7, 6000)
    assert replayed == recorded == {"value": HUGE, "negative": -HUGE, "small": 2**70}
