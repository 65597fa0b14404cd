"""`apirec drift`: recordings made with one version of a module's classes, checked in a real
process against another version of that module (and llama-stack's files against openai)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.paths import LLAMA_STACK

ROOT = Path(__file__).resolve().parents[1]

V1 = """
    import dataclasses
    import datetime as dt
    from enum import Enum

    import uuid

    from pydantic import BaseModel, ConfigDict, Field


    class Color(Enum):
        RED = "red"
        BLUE = "blue"


    class Usage(BaseModel):
        tokens: int


    class Answer(BaseModel):
        text: str
        old_name: str | None = None
        usage: Usage
        color: Color


    class Event(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        at: dt.datetime
        legacy: int = 0


    class Label(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        legacy: str = ""


    @dataclasses.dataclass
    class Point:
        x: int
        y: int


    class Chunk(BaseModel):
        delta: str


    class Ticket(BaseModel):  # its generated id is kept beside the dump ("__state__")
        id: str = Field(default_factory=lambda: uuid.uuid4().hex)
        title: str


    class Oops(Exception):
        pass
"""

RECORD = """
    import sys
    import datetime as dt

    import apirec
    import driftmodels as m


    @apirec.record(name="answer")
    def answer(i):
        return m.Answer(text=f"a{i}", old_name="x", usage=m.Usage(tokens=i), color=m.Color.BLUE)


    @apirec.record(name="event")
    def event():
        at = dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc)
        return [m.Event(name="e", at=at, legacy=1), m.Label(name="l", legacy="old")]


    @apirec.record(name="point")
    def point():
        return {"where": m.Point(1, 2), "color": m.Color.BLUE}


    @apirec.record(name="chunks")
    def chunks():
        yield m.Chunk(delta="a")
        yield m.Chunk(delta="b")


    @apirec.record(name="ticket")
    def ticket():
        return m.Ticket(title="t")


    @apirec.record(name="fails")
    def fails():
        raise m.Oops("bad", m.Usage(tokens=1))


    with apirec.recording(sys.argv[1], mode="record", store=sys.argv[2]):
        for i in range(3):
            answer(i)
        event()
        point()
        list(chunks())
        ticket()
        try:
            fails()
        except m.Oops:
            pass
"""


def run(*argv, modules=None):
    path = [str(ROOT)] + ([str(modules)] if modules else [])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    done = subprocess.run(
        [sys.executable, *map(str, argv)], capture_output=True, text=True, env=env, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def drift(*argv, modules=None):
    return run("-m", "apirec", "drift", *argv, modules=modules)


def write_module(folder, source):
    folder.mkdir(exist_ok=True)
    (folder / "driftmodels.py").write_text(textwrap.dedent(source))
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)


@pytest.fixture(params=["json", "msgpack"])
def recorded(request, tmp_path):
    """A store recorded with V1 of driftmodels; returns (store, modules folder)."""
    modules = tmp_path / "mods"
    write_module(modules, V1)
    script = tmp_path / "record.py"
    script.write_text(textwrap.dedent(RECORD))
    store = tmp_path / "recordings"
    code, _, err = run(script, store, request.param, modules=modules)
    assert code == 0, err
    return store, modules


def report_of(store, modules, *extra):
    code, out, err = drift(store, "--trust", "driftmodels", "--json", *extra, modules=modules)
    assert err == ""
    return code, json.loads(out)


def problems(report, type_name):
    (entry,) = [t for t in report["types"] if t["type"] == f"driftmodels.{type_name}"]
    return entry, {(p["kind"], p["field"]): p for p in entry["problems"]}


def test_unchanged_classes_drift_clean(recorded):
    store, modules = recorded
    code, report = report_of(store, modules)
    assert code == 0
    assert not report["breaks_replay"]
    names = {t["type"]: t for t in report["types"]}
    assert set(names) == {
        f"driftmodels.{n}"
        for n in ("Answer", "Event", "Label", "Point", "Color", "Chunk", "Ticket", "Oops", "Usage")
    }
    assert all(t["problems"] == [] and t["checked"] for t in names.values())
    assert names["driftmodels.Answer"]["values"] == 3
    assert names["driftmodels.Chunk"]["values"] == 2  # a stream's chunks, one by one
    assert names["driftmodels.Color"]["values"] == 1  # nested in a dict beside a dataclass
    assert report["imported"] == ["driftmodels"]
    assert set(report) == {
        "recordings",
        "trusted",
        "imported",
        "breaks_replay",
        "unreadable",
        "types",
    }
    assert report["recordings"] == 8 and report["trusted"] == ["driftmodels"]
    assert set(names["driftmodels.Answer"]) == {
        "type", "package", "checked", "breaks_replay", "values", "files",
        "recorded_versions", "installed_version", "problems",
    }  # fmt: skip


def test_each_change_is_reported_per_type_with_a_count_and_an_example(recorded):
    store, modules = recorded
    write_module(
        modules,
        V1.replace("old_name: str | None = None", "new_name: str")
        .replace("tokens: int", "tokens: list[int]")
        .replace('BLUE = "blue"', 'GREEN = "green"')
        .replace("    y: int", "    z: int")
        .replace("    legacy: int = 0\n", "")
        .replace("class Oops(Exception):", "class Renamed(Exception):"),
    )
    code, report = report_of(store, modules)
    assert code == 1
    assert report["breaks_replay"]

    answer, found = problems(report, "Answer")
    assert answer["breaks_replay"] and answer["values"] == 3 and answer["files"] == 3
    # driftmodels is no distribution: "unknown" (or what apirec's "versions" says of it)
    assert sum(answer["recorded_versions"].values()) == 3
    assert answer["installed_version"] is None  # a module, not an installed distribution
    missing = found[("missing field", "new_name")]
    assert missing["breaks_replay"] and missing["values"] == 3 and missing["files"] == 3
    assert Path(missing["example"].split("::")[0]).is_relative_to(store)
    invalid = found[("invalid value", "usage.tokens")]
    assert invalid["breaks_replay"] and "list" in invalid["detail"]
    unknown = found[("unknown field", "old_name")]
    assert not unknown["breaks_replay"] and unknown["detail"] == "dropped on replay"
    assert unknown["values"] == 3

    # BLUE as a model's field is an invalid value (above); as a value of its own, nested in
    # a dict beside a dataclass, it is no longer a member, and decoding it fails
    assert ("invalid value", "color") in problems(report, "Answer")[1]
    color, found = problems(report, "Color")
    assert list(found) == [("not a member", "")] and color["breaks_replay"]
    assert found[("not a member", "")]["detail"] == "'blue'; members: 'red', 'green'"

    point, found = problems(report, "Point")
    assert point["breaks_replay"] and point["values"] == 1
    assert found[("unknown field", "y")]["breaks_replay"]  # decoding a dataclass fails
    assert found[("missing field", "z")]["breaks_replay"]

    event, found = problems(report, "Event")  # extra="forbid": built unvalidated, ``at`` a str
    assert set(found) == {("unknown field", "legacy"), ("replays unvalidated", "at")}
    assert event["breaks_replay"]
    unconverted = found[("replays unvalidated", "at")]
    assert unconverted["breaks_replay"] and unconverted["detail"].endswith("str, not datetime")
    assert "extra='forbid'" in found[("unknown field", "legacy")]["detail"]

    oops, found = problems(report, "Oops")
    assert found[("unresolvable", "")]["breaks_replay"] and oops["files"] == 1
    assert "apirec.ReplayedError" in found[("unresolvable", "")]["detail"]

    _, found = problems(report, "Usage")  # an argument of the recorded exception
    assert found[("invalid value", "tokens")]["breaks_replay"]

    chunk, found = problems(report, "Chunk")
    assert chunk["values"] == 2 and not found and not chunk["breaks_replay"]
    first = answer["problems"][0]  # breaking problems first
    assert first["breaks_replay"]
    assert set(first) == {"kind", "field", "detail", "breaks_replay", "values", "files", "example"}


def test_what_the_dump_lost_must_still_apply(recorded):
    store, modules = recorded
    write_module(
        modules, V1.replace("id: str = Field(default_factory=lambda: uuid.uuid4().hex)", "")
    )
    code, report = report_of(store, modules)
    assert code == 1
    ticket, found = problems(report, "Ticket")
    assert list(found) == [("state does not apply", "")] and ticket["breaks_replay"]
    assert (
        "'id' is neither a field nor an extra value"
        in found[("state does not apply", "")]["detail"]
    )


REPLAY = """
    import sys

    import apirec
    from pydantic import BaseModel

    from record import answer, event, fails, point, ticket

    def outcome(call):
        try:
            value = call()
        except apirec.DecodeError:
            return "does not decode"
        except apirec.ReplayedError:
            return "ReplayedError"
        except Exception as e:
            return f"raises {type(e).__name__}"
        values = value if isinstance(value, list) else [value]
        for v in values:
            if not isinstance(v, BaseModel):  # Point and Color decoded: nothing to check
                continue
            try:
                assert all(hasattr(v, f) for f in type(v).model_fields)
                # a valid instance is what validating its own data gives
                assert type(v).model_validate(v.model_dump(warnings=False)) == v
            except Exception:
                return "not a valid instance"
        return "ok"

    with apirec.recording(sys.argv[1], mode="replay", store=sys.argv[2]):
        for name, call in [("answer", lambda: answer(0)), ("event", event), ("point", point),
                           ("ticket", ticket), ("fails", fails)]:
            print(name, outcome(call))
"""


def replayed(tmp_path, store, modules):
    """What replay gives each recorded call now: ok, not a valid instance, or an error."""
    (tmp_path / "replay.py").write_text(textwrap.dedent(REPLAY))
    record = (tmp_path / "record.py").read_text()
    (tmp_path / "record.py").write_text(record.split("with apirec.recording")[0])
    kind = "msgpack" if (store / "recordings.apirec").exists() else "json"
    path = os.pathsep.join([str(ROOT), str(modules), str(tmp_path)])
    done = subprocess.run(
        [sys.executable, tmp_path / "replay.py", store, kind],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines())


def test_drift_agrees_with_what_replay_gives(recorded, tmp_path):
    store, modules = recorded
    write_module(
        modules,
        V1.replace("old_name: str | None = None", "new_name: str")
        .replace("    y: int", "    z: int")
        .replace("    legacy: int = 0\n", "")
        .replace("class Oops(Exception):", "class Renamed(Exception):")
        .replace("id: str = Field(default_factory=lambda: uuid.uuid4().hex)", ""),
    )
    _, report = report_of(store, modules)
    breaks = {t["type"].split(".")[-1] for t in report["types"] if t["breaks_replay"]}
    assert breaks == {"Answer", "Event", "Point", "Ticket", "Oops"}
    assert replayed(tmp_path, store, modules) == {
        "answer": "not a valid instance",  # new_name missing
        "event": "not a valid instance",  # Event.at a str
        "point": "does not decode",  # Point has no field y
        "ticket": "does not decode",  # the stored id has no field to go to
        "fails": "ReplayedError",  # Oops is gone
    }


def test_a_class_whose_own_code_fails_on_the_data_does_not_decode(recorded, tmp_path):
    store, modules = recorded
    failing = """
    class Usage(BaseModel):
        tokens: int

        @field_validator("tokens")
        @classmethod
        def no(cls, value):
            raise TypeError("tokens are gone")
    """
    v2 = V1.replace("    class Usage(BaseModel):\n        tokens: int\n", failing.lstrip("\n"))
    write_module(modules, v2.replace("ConfigDict, Field", "ConfigDict, Field, field_validator"))
    code, report = report_of(store, modules)
    assert code == 1
    _, found = problems(report, "Answer")
    assert found[("does not decode", "")]["detail"] == "TypeError: tokens are gone"
    # replay fails too (its first replay lets the TypeError itself through)
    assert replayed(tmp_path, store, modules)["answer"] == "raises TypeError"


def test_fields_the_class_no_longer_has_alone_exit_0(recorded, tmp_path):
    store, modules = recorded
    # Label (extra="forbid", strings only) and Answer (extra ignored) lose a field: replay
    # still gives valid instances, without it
    write_module(
        modules,
        V1.replace("old_name: str | None = None", "").replace('legacy: str = ""', ""),
    )
    code, report = report_of(store, modules)
    assert code == 0, report
    _, found = problems(report, "Answer")
    assert list(found) == [("unknown field", "old_name")]
    label, found = problems(report, "Label")
    assert list(found) == [("unknown field", "legacy")] and not label["breaks_replay"]
    assert replayed(tmp_path, store, modules) == {
        "answer": "ok",
        "event": "ok",
        "point": "ok",
        "ticket": "ok",
        "fails": "raises Oops",
    }


def test_human_output_is_a_table_per_type_and_a_verdict(recorded):
    store, modules = recorded
    write_module(modules, V1.replace("old_name: str | None = None", "new_name: str"))
    code, out, _ = drift(store, "--trust", "driftmodels", modules=modules)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "Trusted to import: driftmodels; imported 1 module"
    at = lines.index("driftmodels.Answer  [BREAKS REPLAY]")
    assert lines[at + 1].startswith("  3 values in 3 files; driftmodels recorded: ")
    assert lines[at + 1].endswith("(3 files); installed: no distribution")
    header = lines[at + 2].split()
    assert header == ["REPLAY", "PROBLEM", "FIELD", "VALUES", "DETAIL", "EXAMPLE"]
    row = lines[at + 3]
    assert row.split()[:5] == ["breaks", "missing", "field", "new_name", "3"]
    assert str(store) in row
    assert "driftmodels.Chunk  [ok]" in lines
    assert lines[-1].startswith(
        "FAILED: 8 recordings, 9 types checked: 1 would no longer replay as their type"
    )


def test_untrusted_types_are_not_imported_and_listed_as_not_checked(recorded, tmp_path):
    store, modules = recorded
    # a module that says when it is imported: drift must not import what it was not told to
    write_module(
        modules, V1 + "\nimport pathlib\npathlib.Path(__file__).with_name('IMPORTED').touch()\n"
    )
    code, out, err = drift(store, "--json", modules=modules)
    assert code == 0, err
    report = json.loads(out)
    assert report["imported"] == [] and report["trusted"] == []
    assert not (modules / "IMPORTED").exists()
    assert {t["checked"] for t in report["types"]} == {False}
    why = {p["detail"] for t in report["types"] for p in t["problems"]}
    assert why == {"not allowed to import (--trust driftmodels)"}


def test_a_file_that_cannot_be_read_fails_and_is_named(tmp_path):
    (tmp_path / "broken.json").write_text('{"response": ')
    code, out, _ = drift(tmp_path, "--json")
    assert code == 1
    (unreadable,) = json.loads(out)["unreadable"]
    assert unreadable["file"] == str(tmp_path / "broken.json")
    assert "not valid JSON" in unreadable["error"]
    code, out, _ = drift(tmp_path / "broken.json", "--json")  # one file given
    assert code == 1 and json.loads(out)["unreadable"] == [unreadable]


def test_no_such_directory_is_a_usage_error(tmp_path):
    code, _, err = drift(tmp_path / "nowhere")
    assert code == 2
    assert "no such file or directory" in err


# -- llama-stack's recordings against the installed openai ----------------------------------


def llama_stack_report(folder):
    code, out, err = drift(folder, "--trust", "openai", "--json")
    assert err == ""
    return code, json.loads(out)


def test_llama_stack_files_against_the_installed_openai(tmp_path):
    code, report = llama_stack_report(LLAMA_STACK)
    by_type = {t["type"]: t for t in report["types"]}
    openai_types = {n: t for n, t in by_type.items() if n.startswith("openai.")}
    assert {t["installed_version"] for t in openai_types.values()} == {version("openai")}
    assert {v for t in openai_types.values() for v in t["recorded_versions"]} == {"unknown"}
    # Values that never validated (Azure's first chunk has object "", a streamed legacy
    # completion has finish_reason null): the openai SDK builds them without validation live,
    # as replay does. Without recorded versions drift cannot tell them from drift: they fail.
    breaking = {
        (name, p["kind"], p["field"], p["values"])
        for name, t in openai_types.items()
        for p in t["problems"]
        if p["breaks_replay"]
    }
    assert breaking == {
        (
            "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
            "invalid value",
            "object",
            27,
        ),
        ("openai.types.completion.Completion", "invalid value", "choices[*].finish_reason", 100),
    }
    assert code == 1
    # other providers' fields are kept as extra values (openai's models allow extras)
    chunk = openai_types["openai.types.chat.chat_completion_chunk.ChatCompletionChunk"]
    unknown = {p["field"]: p for p in chunk["problems"] if p["kind"] == "unknown field"}
    assert unknown["choices[*].delta.reasoning"]["detail"] == "kept as an extra value on replay"
    assert not by_type["ogx_api.tools.ToolInvocationResult"]["checked"]
    assert by_type["openai.BadRequestError"]["problems"] == []  # llama-stack's provider errors
    _, out, _ = drift(LLAMA_STACK, "--trust", "openai")
    assert "\nNote: 127 validation problems are in files that do not say which version" in out


def test_llama_stack_files_recorded_with_the_installed_openai_drift_clean(tmp_path):
    copy = tmp_path / "llama_stack"
    shutil.copytree(LLAMA_STACK, copy)
    for path in copy.rglob("*.json"):
        entry = json.loads(path.read_text())
        entry["versions"] = {"apirec": "0.1.0", "openai": version("openai")}
        path.write_text(json.dumps(entry))
    code, report = llama_stack_report(copy)
    assert code == 0, [t for t in report["types"] if t["breaks_replay"]]
    chunk = next(t for t in report["types"] if t["type"].endswith("ChatCompletionChunk"))
    assert chunk["recorded_versions"] == {version("openai"): 112}
    (never_valid,) = [p for p in chunk["problems"] if p["kind"] == "invalid value"]
    assert "recorded with the installed version, so not drift" in never_valid["detail"]


# -- versions: recorded (the recording's "versions") and installed (package metadata) --------


@pytest.mark.parametrize(
    ("versions", "type_name", "expected"),
    [
        ({"apirec": "0.1.0", "openai": "3.50.0"}, "openai.types.model.Model", "3.50.0"),
        ({"google.genai": "3.6.1"}, "google.genai.types.Candidate", "3.6.1"),
        ({"google-genai": "3.6.1", "google": "x"}, "google.genai.types.Candidate", "3.6.1"),
        ({"openai": "3.50.0"}, "openai.pagination.SyncPage[openai.types.model.Model]", "3.50.0"),
        ({"anthropic": "2.16.0"}, "openai.types.model.Model", "unknown"),
        ({}, "openai.types.model.Model", "unknown"),
        (None, "openai.types.model.Model", "unknown"),  # files written before apirec kept them
        ({"openai": 3}, "openai.types.model.Model", "unknown"),
    ],
)
def test_recorded_version(versions, type_name, expected):
    from apirec.cli.drift_report import recorded_version

    assert recorded_version(versions, type_name) == expected


@pytest.mark.parametrize(
    ("type_name", "distribution"),
    [
        ("openai.types.model.Model", "openai"),
        ("pydantic_core._pydantic_core.ValidationError", "pydantic_core"),
        ("msgpack.ext.Timestamp", "msgpack"),
    ],
)
def test_installed_version_comes_from_package_metadata(type_name, distribution):
    from apirec.cli.drift_report import installed_version

    assert installed_version(type_name) == version(distribution)


def test_installed_version_of_a_module_that_no_distribution_provides():
    from apirec.cli.drift_report import installed_version

    assert installed_version("tests.test_drift.Thing") is None
    assert installed_version("no_such_package_zz.Thing") is None


def test_a_value_breaks_only_in_files_recorded_with_another_version(tmp_path):
    copy = tmp_path / "llama_stack"
    shutil.copytree(LLAMA_STACK / "sample" / "inference", copy)
    older = (
        copy
        / "recordings"
        / "8567635651a5e7104394951bbbba040e5c7f3ba11084fb6e81328f4905100a65.json"
    )
    for path in copy.rglob("*.json"):
        entry = json.loads(path.read_text())
        entry["versions"] = {"openai": "3.0.0" if path == older else version("openai")}
        path.write_text(json.dumps(entry))
    code, report = llama_stack_report(copy)
    assert code == 1
    completion = next(
        t for t in report["types"] if t["type"] == "openai.types.completion.Completion"
    )
    others = completion["files"] - 1
    assert completion["recorded_versions"] == {"3.0.0": 1, version("openai"): others}
    by_breaking = {p["breaks_replay"]: p for p in completion["problems"]}
    assert by_breaking[True]["files"] == 1 and by_breaking[True]["example"] == str(older)
    assert by_breaking[True]["field"] == by_breaking[False]["field"] == "choices[*].finish_reason"
    assert 1 <= by_breaking[False]["files"] <= others
