"""A recording is data from a pull request: malformed or hostile files are named, never run.

Whatever a recording file holds (random bytes, half a file, a wrong type in any field, deep
nesting, huge numbers, hostile ``__type__`` names), replaying it either gives a value, raises
the exception it records (of a class that may be rebuilt), or raises an ``apirec.ApirecError``
naming the file. Nothing is executed or imported, and the store's other recordings still
replay. Driven by hypothesis, with bounded example counts.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import enum
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import apirec
from apirec.codec.type_resolution import type_name
from apirec.streams.replay import ReplayStream

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Report(BaseModel):
    title: str
    when: dt.datetime
    points: list[Point] = []
    color: Color = Color.RED


class Boom(Exception):
    def __init__(self, message: str, *, code: int) -> None:
        super().__init__(message)
        self.code = code


VALUE = {
    "report": Report(title="t", when=dt.datetime(2024, 1, 2, tzinfo=dt.UTC), points=[Point(1, 2)]),
    "pair": (1, "two"),
    "raw": b"\x00\x01",
    "amount": Decimal("1.50"),
    "tags": {"a", "b"},
    "keys": {1: "one"},
}


@apirec.record(name="malformed.target")
def target(kind: str) -> Any:
    if kind == "error":
        raise Boom("went wrong", code=3)
    return VALUE


@apirec.record(name="malformed.stream")
def stream_target() -> Iterator[Any]:
    yield VALUE["report"]
    yield {"pair": (1, 2)}
    raise Boom("mid-stream", code=5)


def call_target(kind: str) -> Any:
    """The call recorded in the file of this kind; a stream is read to its end."""
    if kind == "stream":
        return list(stream_target())
    value = target(kind)
    if isinstance(value, ReplayStream):  # a file turned into "streamed": read it all
        return list(value)
    return value


@apirec.record(name="malformed.good")
def good() -> Report:
    return VALUE["report"]  # type: ignore[return-value]


MARKER_MODULE = """
from pathlib import Path
Path({marker!r}).write_text("imported " + __name__)
class Thing:
    pass
"""


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Modules that write a marker file when imported: one not imported at all, and the
    ``__main__`` and ``__init__`` submodules of a package that is imported."""
    base = tmp_path_factory.mktemp("trap")
    marker = base / "MARKER"
    (base / "apirec_trap_mod.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    pkg = base / "apirec_trap_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("class Safe:\n    pass\n")
    (pkg / "__main__.py").write_text(MARKER_MODULE.format(marker=str(marker)))
    (pkg / "cli.py").write_text("raise SystemExit('a command line run at import')\n")
    sys.path.insert(0, str(base))
    try:
        import apirec_trap_pkg  # noqa: F401

        (pkg / "__init__.py").write_text(MARKER_MODULE.format(marker=str(marker)))  # no re-run
        yield marker
    finally:
        sys.path.remove(str(base))
        for name in [m for m in sys.modules if m.startswith("apirec_trap")]:
            del sys.modules[name]
    assert not marker.exists()


@dataclasses.dataclass
class Store:
    root: Path
    value_file: Path
    error_file: Path
    stream_file: Path
    value_doc: dict[str, Any]
    error_doc: dict[str, Any]
    stream_doc: dict[str, Any]

    def kind(self, path: Path) -> str:
        return {self.value_file: "value", self.error_file: "error"}.get(path, "stream")

    def doc(self, path: Path) -> dict[str, Any]:
        return {"value": self.value_doc, "error": self.error_doc, "stream": self.stream_doc}[
            self.kind(path)
        ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with apirec.recording(tmp_path, mode="record"):
        good()
        target("value")
        with pytest.raises(Boom):
            target("error")
        with pytest.raises(Boom):
            list(stream_target())
    files = {p.read_text(): p for p in tmp_path.glob("*.json")}
    value_file = next(p for t, p in files.items() if '"malformed.target"' in t and "Boom" not in t)
    error_file = next(p for t, p in files.items() if '"malformed.target"' in t and "Boom" in t)
    stream_file = next(p for t, p in files.items() if '"malformed.stream"' in t)
    docs = [json.loads(p.read_text()) for p in (value_file, error_file, stream_file)]
    assert docs[2]["response"]["is_streaming"] is True
    return Store(tmp_path, value_file, error_file, stream_file, *docs)


def replay_file(store: Store, path: Path, raw: bytes) -> apirec.ApirecError | None:
    """Put ``raw`` in ``path`` and replay it; check the only outcomes allowed."""
    path.write_bytes(raw)
    error = None
    with apirec.recording(store.root, mode="replay"):
        try:
            call_target(store.kind(path))
        except apirec.RecordingNotFound:
            raise
        except apirec.ApirecError as e:
            assert names(e, path), f"{type(e).__name__} does not name the file: {e}"
            error = e
        except Exception as e:
            # the exception the file records, rebuilt because its class may be imported
            doc = json.loads(raw)
            data = doc["response"]["exception_data"]
            assert doc["response"]["is_exception"] is True
            assert type_name(type(e)) == data["type"]
        # the store's other recordings still replay
        assert good() == VALUE["report"]
    return error


def names(error: BaseException, path: Path) -> bool:
    """The error names the file, in its message or in a note shown with its traceback."""
    return any(str(path) in text for text in [str(error), *getattr(error, "__notes__", [])])


def dump(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2) + "\n").encode()


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_random_bytes(store: Store, raw: bytes) -> None:
    replay_file(store, store.value_file, raw)


@FUZZ
@given(data=st.data())
def test_truncated_files(store: Store, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from([store.value_file, store.error_file, store.stream_file]))
    whole = dump(store.doc(path))
    cut = data.draw(st.integers(min_value=0, max_value=len(whole) - 2))
    replay_file(store, path, whole[:cut])


BASE_EXCEPTIONS = ["builtins.SystemExit", "builtins.KeyboardInterrupt", "builtins.GeneratorExit"]
HOSTILE_TYPES = [
    "os.system",
    "builtins.eval",
    "builtins.exec",
    "builtins.__import__",
    "builtins.open",
    "subprocess.Popen",
    "posix.system",
    "pickle.loads",
    "importlib.import_module",
    "shutil.rmtree",
    "builtins.object.__subclasses__",
    *BASE_EXCEPTIONS,
    "apirec_trap_mod.Thing",
    "apirec_trap_pkg.__main__.Thing",
    "apirec_trap_pkg.__init__.Thing",
    "apirec_trap_pkg.cli.Thing",
    "apirec_trap_pkg.Safe.__class__",
    "tests.test_malformed.Report.__class__",
    "tests.test_malformed.Report.__init__",
    "no_such_module_anywhere.Type",
    "",
    ".",
    "builtins.",
    "x" * 5000,
]

# types apirec does build, given data of every wrong shape
REAL_TYPES = [
    "builtins.tuple",
    "builtins.set",
    "builtins.frozenset",
    "builtins.dict",
    "builtins.bytes",
    "builtins.bytearray",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "decimal.Decimal",
    "uuid.UUID",
    "pathlib.Path",
    "builtins.ValueError",
    "tests.test_malformed.Report",
    "tests.test_malformed.Point",
    "tests.test_malformed.Color",
    "tests.test_malformed.Boom",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**4000)
    | st.floats()
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
        | st.builds(
            lambda t, d: {"__type__": t, "__data__": d},
            st.sampled_from(HOSTILE_TYPES + REAL_TYPES) | st.text(max_size=12),
            children,
        )
    ),
    max_leaves=12,
)


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON document: each object member and list item, at any depth."""
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from paths(v, (*prefix, i))


def mutate(doc: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


@FUZZ
@given(data=st.data(), value=json_values, delete=st.booleans())
def test_wrong_types_in_every_field(
    store: Store, data: st.DataObject, value: Any, delete: bool
) -> None:
    path = data.draw(st.sampled_from([store.value_file, store.error_file, store.stream_file]))
    doc = store.doc(path)
    where = data.draw(st.sampled_from(sorted(paths(doc), key=repr)))
    replay_file(store, path, dump(mutate(doc, where, value, delete and bool(where))))


def test_every_schema_field_is_among_the_fuzzed_places(store: Store) -> None:
    # the fuzz above reaches each field of the schema, and the envelopes inside the body
    value_places = set(paths(store.value_doc))
    error_places = set(paths(store.error_doc))
    fields = ["test_id", "recorded_at", "versions", "request", "response"]
    for field in [*fields, "id_normalization_mapping"]:
        assert (field,) in value_places
    for field in ["function", "args", "key"]:
        assert ("request", field) in value_places
    assert ("response", "body", "report", "__type__") in value_places
    assert ("response", "body", "report", "__data__", "points", 0, "x") in value_places
    assert ("response", "body", "pair", "__data__", 1) in value_places
    for field in ["is_exception", "exception_data", "exception_message", "is_streaming"]:
        assert ("response", field) in error_places
    for field in ["type", "message", "args", "attributes"]:
        assert ("response", "exception_data", field) in error_places


@FUZZ
@given(data=json_values)
def test_decode_of_arbitrary_data_raises_only_decode_errors(data: Any) -> None:
    try:
        apirec.decode(data, file="some/recording.json")
    except apirec.DecodeError as e:
        assert "some/recording.json" in str(e)


NESTING = {
    "list": (b"[", b"]"),
    "dict": (b'{"a": ', b"}"),
    "envelope": (b'{"__type__": "builtins.tuple", "__data__": [', b"]}"),
    "model": (b'{"__type__": "tests.test_malformed.Report", "__data__": {"title": ', b"}}"),
}


@pytest.mark.parametrize("depth", [50, 400, 900, 990, 5_000, 200_000])
@pytest.mark.parametrize("place", ["body", "message", "attributes", "args"])
@pytest.mark.parametrize("how", sorted(NESTING))
def test_deep_nesting(store: Store, depth: int, place: str, how: str) -> None:
    if place == "body":
        path, doc = store.value_file, copy.deepcopy(store.value_doc)
        holder, field = doc["response"], "body"
    else:
        path, doc = store.error_file, copy.deepcopy(store.error_doc)
        holder, field = doc["response"]["exception_data"], place
    holder[field] = "@@NESTED@@" if place != "attributes" else {"x": "@@NESTED@@"}
    opening, closing = NESTING[how]
    raw = dump(doc).replace(b'"@@NESTED@@"', opening * depth + b"1" + closing * depth)
    replay_file(store, path, raw)


HUGE = [
    b"1" + b"0" * 4000,  # within Python's limit on digits: parsed
    b"1" * 5000,  # beyond it: not parsed
    b"1e400",
    b"-1e400",
    b"NaN",
    b'{"__type__": "datetime.timedelta", "__data__": [1e300, 0, 0]}',
    b'{"__type__": "datetime.timedelta", "__data__": [' + b"9" * 4000 + b", 0, 0]}",
    b'{"__type__": "decimal.Decimal", "__data__": "1e999999999999999999"}',
    b'{"__type__": "decimal.Decimal", "__data__": "not a number"}',
    b'{"__type__": "builtins.bytes", "__data__": "not base64!"}',
    b'{"__type__": "datetime.datetime", "__data__": "99999-01-01"}',
    b'{"__type__": "tests.test_malformed.Color", "__data__": ' + b"9" * 4000 + b"}",
    b'{"__type__": "builtins.dict", "__data__": [[[1, [2]], "unhashable key"]]}',
    b'{"__type__": "builtins.set", "__data__": [[1], [2]]}',
]


@pytest.mark.parametrize("body", HUGE, ids=lambda b: b[:40].decode())
def test_huge_numbers_and_bad_values(store: Store, body: bytes) -> None:
    doc = copy.deepcopy(store.value_doc)
    doc["response"]["body"] = "@@BODY@@"
    replay_file(store, store.value_file, dump(doc).replace(b'"@@BODY@@"', body))


@pytest.mark.parametrize("field", ["is_streaming", "is_exception", "test_id", "request"])
def test_huge_number_in_a_schema_field(store: Store, field: str) -> None:
    doc = copy.deepcopy(store.value_doc)
    holder = doc if field in ("test_id", "request") else doc["response"]
    holder[field] = "@@N@@"
    error = replay_file(store, store.value_file, dump(doc).replace(b'"@@N@@"', b"7" * 4000))
    assert isinstance(error, apirec.StoreError)
    assert f"'{field}'" in str(error) or f".{field}'" in str(error)


def hostile_payload(name: str, marker: Path) -> Any:
    # what each would do if it were ever called with its data
    if name in ("os.system", "posix.system"):
        return f"touch {marker}"
    if name in ("builtins.eval", "builtins.exec"):
        return f"open({str(marker)!r}, 'w')"
    if name == "subprocess.Popen":
        return ["touch", str(marker)]
    if name == "builtins.open":
        return [str(marker), "w"]
    return {"path": str(marker)}


@pytest.mark.parametrize("name", HOSTILE_TYPES, ids=lambda n: n[:40] or "empty")
@pytest.mark.parametrize("place", ["body", "nested", "exception"])
def test_hostile_types_are_never_run_or_imported(
    store: Store, trap: Path, name: str, place: str
) -> None:
    envelope = {"__type__": name, "__data__": hostile_payload(name, trap)}
    if place == "exception":
        path, doc = store.error_file, copy.deepcopy(store.error_doc)
        doc["response"]["exception_data"]["type"] = name
        doc["response"]["exception_data"]["args"] = [hostile_payload(name, trap)]
        doc["response"]["exception_data"]["attributes"] = {"__class__": envelope}
    else:
        path, doc = store.value_file, copy.deepcopy(store.value_doc)
        if place == "body":
            doc["response"]["body"] = envelope
        else:  # deep inside a valid model
            doc["response"]["body"]["report"]["__data__"]["points"][0] = envelope

    with apirec.recording(store.root, mode="replay"):
        path.write_bytes(dump(doc))
        if place != "exception" and name in BASE_EXCEPTIONS:
            # an exception object as a value is data: built, never raised
            value = target("value")
            found = value if place == "body" else value["report"].points[0]
            assert type_name(type(found)) == name
        else:
            kind = "error" if place == "exception" else "value"
            # a recorded SystemExit or KeyboardInterrupt is not raised: it would stop the run
            expected = apirec.ReplayedError if place == "exception" else apirec.DecodeError
            with pytest.raises(expected) as caught:
                target(kind)
            assert names(caught.value, path)
            if place == "exception":
                assert caught.value.type_name == name
            else:
                assert caught.value.file == str(path)
        assert good() == VALUE["report"]
    assert not trap.exists(), trap.read_text()
    assert "apirec_trap_mod" not in sys.modules
    assert "apirec_trap_pkg.__main__" not in sys.modules
    assert "apirec_trap_pkg.cli" not in sys.modules


@pytest.mark.parametrize("name", ["apirec_trap_mod.Thing", "apirec_trap_pkg.__main__.Thing"])
def test_lenient_decoding_returns_raw_data_without_importing(trap: Path, name: str) -> None:
    with pytest.warns(UserWarning, match=name):
        value = apirec.decode({"__type__": name, "__data__": {"a": 1}}, strict_types=False)
    assert value == {"a": 1}
    assert not trap.exists()


def test_an_imported_package_may_still_give_its_classes(trap: Path) -> None:
    # the rule is about importing, not about the package: its own classes are found
    with pytest.raises(apirec.DecodeError, match="not a pydantic model, dataclass"):
        apirec.decode({"__type__": "apirec_trap_pkg.Safe", "__data__": {}})


SPECIAL_FILE_CHILD = """
import resource, sys
import apirec
from apirec.stores.json_store import JsonStore

resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a regression fails, not swaps
try:
    JsonStore(sys.argv[1]).read(sys.argv[2], 0)
except apirec.StoreError as e:
    print(str(e))
"""


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_recording_that_is_a_device_or_fifo_is_refused(tmp_path: Path, special: str) -> None:
    # A pull request can add a symlink; reading /dev/zero or a FIFO would never end.
    if special == "fifo":
        os.mkfifo(tmp_path / "fifo")
        special = str(tmp_path / "fifo")
    key = "0" * 32
    (tmp_path / f"{key}.json").symlink_to(special)
    done = subprocess.run(
        [sys.executable, "-c", SPECIAL_FILE_CHILD, str(tmp_path), key],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip()
        == f"{tmp_path / key}.json: is a device, FIFO or socket, not a recording"
    )
