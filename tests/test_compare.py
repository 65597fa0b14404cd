"""``mode="compare"`` on ``apirec.recording()`` (and ``APIREC_MODE=compare``), and the
comparison of two answers itself (issue 21, point 5); the pytest side is in
test_plugin_compare.py."""

from __future__ import annotations

import contextlib

import pytest

import apirec
from apirec.codec.answer_diff import compare_answers
from apirec.codec.envelope import encode


class ServiceError(Exception):
    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


ANSWER = {"id": "a1", "text": "the llama eats grass", "usage": {"tokens": 5}}


def run(path, mode, answer, *, raises=None, **options):
    @apirec.record(name="svc.ask")
    def ask(question):
        if raises is not None:
            raise raises
        return answer

    with (
        apirec.recording(path, mode=mode, test_id="t", **options) as rec,
        contextlib.suppress(Exception),
    ):
        ask("what")
    return rec


def files(path):
    return {p.name: None if p.is_dir() else p.read_bytes() for p in sorted(path.rglob("*"))}


def test_compare_calls_live_stores_nothing_and_lists_the_differences(tmp_path, monkeypatch):
    run(tmp_path, "record", ANSWER)
    before = files(tmp_path)
    monkeypatch.setenv("APIREC_MODE", "compare")
    changed = {"id": "a2", "text": "the llama eats hay", "usage": {"tokens": "5"}}
    rec = run(tmp_path, None, changed, max_age="1s", on_expired="fail")  # expiry does not apply
    assert rec.mode is apirec.Mode.COMPARE
    assert rec.stats.live == 1
    (result,) = rec.compared
    assert result["outcome"] == "structure"
    assert result["file"].endswith(".json")
    kinds = {(d["level"], d["kind"], d["path"]) for d in result["differences"]}
    assert ("structure", "changed type", "usage.tokens") in kinds
    assert ("content", "changed text", "text") in kinds
    # the answer's id changes on every call of a live service: not a difference
    assert not any(path == "id" for _, _, path in kinds), kinds
    assert 0.5 < result["similarity"] < 1
    assert result["ledger"]["stored"]["seconds"] >= 0
    assert files(tmp_path) == before
    assert rec.unplayed() == []  # a compare run judges no answer unplayed


def test_a_call_with_no_stored_answer_is_new_and_not_stored(tmp_path):
    rec = run(tmp_path, "compare", ANSWER)
    assert [r["outcome"] for r in rec.compared] == ["new"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("recorded", "live", "kind"),
    [
        (None, ServiceError("no such model", 404), "new error"),
        (ServiceError("no such model", 404), None, "error gone"),
        (ServiceError("no such model", 404), ServiceError("no such model", 400), "changed status"),
        (ServiceError("no such model", 404), KeyError("model"), "changed type"),
    ],
)
def test_errors_against_answers_and_status_codes_are_structural(tmp_path, recorded, live, kind):
    run(tmp_path, "record", ANSWER, raises=recorded)
    rec = run(tmp_path, "compare", ANSWER, raises=live)
    (result,) = rec.compared
    assert result["outcome"] == "structure"
    assert kind in [d["kind"] for d in result["differences"]]


def test_a_transient_error_is_reported_as_such_and_gives_up_its_place(tmp_path):
    run(tmp_path, "record", ANSWER)
    failures = [ServiceError("slow down", 429)]

    @apirec.record(name="svc.ask")
    def ask(question):
        if failures:
            raise failures.pop()
        return ANSWER

    with apirec.recording(tmp_path, mode="compare", test_id="t") as rec:
        with pytest.raises(ServiceError):
            ask("what")
        ask("what")  # the retry is compared with the first stored answer
    transient, retried = rec.compared
    assert transient["outcome"] == "transient" and "slow down" in transient["error"]
    assert (retried["outcome"], retried["call"], retried["slot"]) == ("same", 1, 0)


def typed(value):
    return {"body": encode(value), "is_streaming": False}


@pytest.mark.parametrize(
    ("stored", "live", "expected"),
    [
        ({"a": 1}, {"a": 1}, []),
        ({"a": 1}, {"a": 1, "b": "x"}, [("field added", "b")]),
        ({"a": 1, "b": "x"}, {"a": 1}, [("field removed", "b")]),
        ({"a": 1}, {"a": "1"}, [("changed type", "a")]),
        ({"a": 1}, {"a": 1.5}, []),  # JSON numbers: content
        ({"a": None}, {"a": {"x": 1}}, []),  # null against a value: content
        # items are grouped by kind, so one more block of a known kind is content...
        ({"c": [{"type": "text", "t": "a"}]}, {"c": [{"type": "text", "t": "a"}] * 2}, []),
        # ...and a new kind of block is structure
        (
            {"c": [{"type": "text", "t": "a"}]},
            {"c": [{"type": "thinking", "t": "a"}]},
            [("item kind added", "c[*]"), ("item kind removed", "c[*]")],
        ),
    ],
)
def test_structure(stored, live, expected):
    found = compare_answers(typed(stored), typed(live))
    structural = sorted((d.kind, d.path) for d in found.differences if d.level == "structure")
    assert structural == sorted(expected)


def test_an_envelopes_type_is_structure():
    class Answer:
        pass

    stored = {"body": {"__type__": "pkg.Answer", "__data__": {"a": 1}}, "is_streaming": False}
    live = {"body": {"__type__": "pkg.Reply", "__data__": {"a": 1}}, "is_streaming": False}
    (difference,) = compare_answers(stored, live).differences
    assert (difference.kind, difference.detail) == ("changed type", "pkg.Reply, was pkg.Answer")


def test_streams_compare_chunk_kinds_and_the_joined_text():
    def stream(*words):
        return {"body": [{"type": "delta", "text": w} for w in words], "is_streaming": True}

    found = compare_answers(stream("the", " llama"), stream("the", " big", " llama"))
    assert not found.structural
    assert ("chunk count", "chunks") in [(d.kind, d.path) for d in found.differences]
    assert 0.5 < (found.similarity or 0) < 1
    ended = {**stream("the"), "is_exception": True, "exception_data": {"type": "E"}}
    assert compare_answers(stream("the"), ended).structural
    assert compare_answers(stream("the"), typed({"text": "the"})).structural  # not a stream
