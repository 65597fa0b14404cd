"""A replay miss: counted, described (the closest stored call, a renamed test's recordings, or
this test's made under older key rules) and kept for the pytest plugin to fail the test."""

from __future__ import annotations

from apirec.errors import ApirecError, RecordingNotFound
from apirec.record import key_rules, transient_notes
from apirec.record.calls import Call
from apirec.record.miss_diagnostics import recording_not_found
from apirec.record.record_advice import record_advice
from apirec.record.renames import miss_lines
from apirec.record.stored_answers import Answers


def replay_miss(answers: Answers, call: Call) -> RecordingNotFound:
    """The error of a call that has no stored answer in replay mode (raised by the caller)."""
    kind = answers.miss_kind(call)
    store = answers.store
    error = recording_not_found(
        function=call.function,
        key=call.key,
        arguments=call.arguments,
        location=store.location,
        test_id=call.test_id,
        # scanning for the closest call reads the store: only for the first few misses
        store=store if len(answers.misses) < 3 else None,
        record_command=record_advice(answers.settings.extra),
        store_switch=answers.settings.extra.get("store_switch"),
        renamed=transient_notes.miss_lines(answers.settings.path, call.key)
        + _renamed_lines(answers, call),
    )
    return answers.missed(call, error, kind)


def _renamed_lines(answers: Answers, call: Call) -> list[str]:
    """What a miss says about the recordings that would answer it under another name: of
    a renamed test, or of this test (shared ones) made under older key rules."""
    renames = answers.renames
    if renames is None or call.scoped is None:
        return []  # outside pytest, or keyed by another format
    rekey, hint = renames.rekey, renames.hint
    store = answers.store
    try:
        if call.test_id is not None:
            matches = renames.find(store, call.function, call.scoped, call.test_id)
            if matches:
                return miss_lines(matches, rekey=rekey, hint=hint)
        if call.spec is None:
            return []
        older = renames.find_older(store, call.spec, call.key, call.test_id, call.rules)
    except ApirecError:
        return []  # the store cannot be searched: the miss says what it can without
    return key_rules.miss_lines(older, shared=call.test_id is None, rekey=rekey, hint=hint)
