import dataclasses
import datetime as dt
import enum
import json
import sys
import uuid
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Literal

import pytest
from pydantic import BaseModel

import apirec


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Shade(enum.Enum):
    DARK = "dark"


@dataclasses.dataclass(frozen=True)
class Frozen:
    name: str
    tags: tuple[str, ...] = ()


@dataclasses.dataclass
class WithComputed:
    a: int
    b: int = dataclasses.field(init=False, default=0)


class Inner(BaseModel):
    kind: Literal["a", "b"]
    score: float


class Outer(BaseModel, extra="allow"):
    id: str
    inner: Inner
    items: list[Inner] = []
    note: str | None = None


VALUES = [
    None,
    True,
    3,
    2.5,
    "text",
    [1, "two", None],
    {"a": {"b": [1, 2]}},
    (1, "x", (2,)),
    {1, 2, 3},
    frozenset({"a"}),
    b"\x00\x01binary",
    bytearray(b"ba"),
    dt.datetime(2024, 5, 6, 7, 8, 9, 123, tzinfo=dt.UTC),
    dt.date(2024, 5, 6),
    dt.time(7, 8, 9),
    dt.timedelta(days=1, seconds=2, microseconds=3),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Decimal("3.1415926535897932384626"),
    Path("/var/data"),
    PurePosixPath("a/b"),
    Level.HIGH,
    Shade.DARK,
    Frozen("n", ("x", "y")),
    Outer(id="o", inner=Inner(kind="a", score=1.5), items=[Inner(kind="b", score=2.0)]),
    {"__type__": "not an envelope", "x": 1},
    {1: "int key", (1, 2): "tuple key"},
    [{"nested": (Decimal("1"), {Shade.DARK})}],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_round_trip_gives_the_same_type_and_value(value):
    data = apirec.encode(value)
    json.dumps(data)  # JSON-ready
    back = apirec.decode(json.loads(json.dumps(data)))
    assert back == value
    assert type(back) is type(value)


def test_dataclass_round_trip_keeps_non_init_fields():
    value = WithComputed(1)
    value.b = 7
    back = apirec.decode(apirec.encode(value))
    assert back == value and back.b == 7


def test_pydantic_models_become_envelopes_with_json_data():
    data = apirec.encode(Outer(id="o", inner=Inner(kind="a", score=1.0)))
    assert data == {
        "__type__": f"{__name__}.Outer",
        "__data__": {"id": "o", "inner": {"kind": "a", "score": 1.0}},
    }


def test_plain_dict_with_type_key_is_escaped():
    value = {"__type__": "os.system", "__data__": "rm -rf /"}
    data = apirec.encode(value)
    assert data["__type__"] == "builtins.dict"
    assert apirec.decode(data) == value


def test_decoding_gives_fresh_objects_each_time():
    data = apirec.encode({"items": [Outer(id="o", inner=Inner(kind="a", score=1.0))]})
    first = apirec.decode(data)
    first["items"][0].inner.score = 99.0
    first["items"].append("x")
    second = apirec.decode(data)
    assert second["items"][0].inner.score == 1.0 and len(second["items"]) == 1


def test_model_that_fails_validation_is_constructed_without_it():
    recorded = {
        "id": "o",
        "inner": {"kind": "c", "score": "not a number"},  # both invalid now
        "items": [{"kind": "z", "score": 3.0}],
        "new_field": {"from": "a newer server"},
    }
    value = apirec.decode({"__type__": f"{__name__}.Outer", "__data__": recorded})
    assert type(value) is Outer
    assert type(value.inner) is Inner and value.inner.kind == "c"
    assert type(value.items[0]) is Inner and value.items[0].kind == "z"
    assert value.inner.score == "not a number"
    # what was recorded comes back out unchanged
    assert apirec.encode(value)["__data__"] == recorded


class Money:
    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents


def test_register_type():
    with pytest.raises(apirec.EncodeError, match="register_type"):
        apirec.encode(Money(5))
    apirec.register_type(Money, lambda m: {"cents": m.cents}, lambda d: Money(d["cents"]))
    data = apirec.encode([Money(5)])
    assert data == [{"__type__": f"{__name__}.Money", "__data__": {"cents": 5}}]
    assert apirec.decode(data) == [Money(5)]


def test_unknown_type_is_a_decode_error_naming_file_place_and_type():
    data = {"results": [1, {"__type__": "apirec_tests_nowhere.Thing", "__data__": {}}]}
    with pytest.raises(apirec.DecodeError) as info:
        apirec.decode(data, file="recordings/abc.json")
    error = info.value
    assert error.file == "recordings/abc.json"
    assert error.place == "$.results[1]"
    assert error.type_name == "apirec_tests_nowhere.Thing"
    for part in ("recordings/abc.json", "$.results[1]", "apirec_tests_nowhere.Thing"):
        assert part in str(error)


def test_unknown_type_with_strict_types_off_returns_raw_data_with_a_warning():
    data = {"__type__": "apirec_tests_nowhere.Thing", "__data__": {"a": [1]}}
    with pytest.warns(UserWarning, match="apirec_tests_nowhere.Thing"):
        assert apirec.decode(data, strict_types=False) == {"a": [1]}


@pytest.mark.parametrize(
    "name",
    ["os.system", "builtins.eval", "subprocess.Popen", "builtins.object", "pathlib.Path.unlink"],
)
def test_hostile_types_are_refused(name):
    import subprocess  # noqa: F401  (imported: only the kind of object stops it)

    with pytest.raises(apirec.DecodeError) as info:
        apirec.decode({"__type__": name, "__data__": ["echo", "pwned"]})
    assert name in str(info.value)


def test_envelope_with_extra_keys_is_refused():
    with pytest.raises(apirec.DecodeError, match="exactly"):
        apirec.decode({"__type__": "builtins.tuple", "__data__": [], "extra": 1})


@pytest.fixture
def marker_module(tmp_path, monkeypatch):
    """A module on sys.path that leaves a marker file if anything ever imports it."""
    marker = tmp_path / "imported.marker"
    package = tmp_path / "apirec_marker_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).write_text('imported')\n"
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Payload:\n"
        "    value: int\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield marker
    sys.modules.pop("apirec_marker_pkg", None)


def test_module_that_is_not_imported_is_never_imported(marker_module):
    data = {"__type__": "apirec_marker_pkg.Payload", "__data__": {"value": 1}}
    with pytest.raises(apirec.DecodeError, match="not imported"):
        apirec.decode(data, file="r.json")
    assert not marker_module.exists()
    assert "apirec_marker_pkg" not in sys.modules


def test_trusted_modules_may_be_imported(marker_module):
    data = {"__type__": "apirec_marker_pkg.Payload", "__data__": {"value": 1}}
    value = apirec.decode(data, trusted_modules=["apirec_marker_pkg"])
    assert marker_module.exists()
    assert type(value).__name__ == "Payload" and value.value == 1


def test_invalid_payload_for_a_known_type_is_a_decode_error():
    with pytest.raises(apirec.DecodeError, match=r"\$\[0\].*uuid.UUID"):
        apirec.decode([{"__type__": "uuid.UUID", "__data__": "not-a-uuid"}])
    with pytest.raises(apirec.DecodeError, match="needs an object"):
        apirec.decode({"__type__": f"{__name__}.Outer", "__data__": [1]})


# -- the real recordings of llama-stack's suite ---------------------------------------------


def _recordings(root):
    return sorted(p for p in root.rglob("*.json") if p.name != "README.json")


def _types_in(data, found):
    if isinstance(data, dict):
        if "__type__" in data:
            found.add(data["__type__"])
        for v in data.values():
            _types_in(v, found)
    elif isinstance(data, list):
        for v in data:
            _types_in(v, found)
    return found


def _installed(type_name):
    top = type_name.split(".")[0]
    try:
        __import__(top)
    except ImportError:
        return False
    return True


def test_every_fixture_body_round_trips(fixtures_dir):
    """decode every response body to the recorded classes, encode again: same JSON."""
    checked = skipped = 0
    for path in _recordings(fixtures_dir):
        body = json.loads(path.read_text())["response"]["body"]
        types = _types_in(body, set())
        if not types or not all(_installed(t) for t in types):
            skipped += 1
            continue
        value = apirec.decode(body, trusted_modules=["openai", "ollama"], file=str(path))
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                assert f"{type(item).__module__}.{type(item).__qualname__}" in types
        assert apirec.encode(value) == body, path.name
        checked += 1
    print(f"round-tripped {checked} fixture bodies, skipped {skipped} (types not installed)")
    assert checked >= 150
