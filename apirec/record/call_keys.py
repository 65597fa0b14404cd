"""A call turned into a :class:`~apirec.record.calls.Call`: keyed (by the function's
:class:`~apirec.keys.spec.KeySpec` through the write gate, or by its ``Keying``), numbered among
the identical calls of its recording, and carrying what the recorder needs later."""

from __future__ import annotations

from typing import Any

from apirec.gate.rules import NO_RULES
from apirec.keys.files import OLDER_PATH_KEYS, as_recorded, paths_keyed_as_files
from apirec.keys.spec import KeySpec
from apirec.record.calls import Call
from apirec.record.context import current_test_id
from apirec.record.modes import Mode
from apirec.record.settings import Settings
from apirec.record.stored_answers import Answers

# the modes that read what is stored
_LOOKING_UP = (Mode.REPLAY, Mode.RECORD_IF_MISSING, Mode.COMPARE)


def prepare_call(
    answers: Answers,
    settings: Settings,
    spec: KeySpec,
    instance: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Call:
    """The call of ``spec``'s function with these arguments, as the recording sees it."""
    test_id = settings.test_id or current_test_id()
    extra = settings.scrub  # the function's scrub= and the recording's (most have none)
    rules = spec.scrub if extra is NO_RULES else spec.scrub + extra
    if settings.mode is Mode.LIVE:
        # Live mode stores and reads nothing, so it needs no key (a live call under a record
        # budget comes here to be measured): any argument goes through, as without a budget.
        return Call(spec.name, "", next(answers.state("").counter), {}, test_id, rules=rules)
    keying = spec.keying
    if keying is not None:
        key, request = keying.key(spec, instance, args, kwargs, test_id)
        index = next(answers.state(key).counter)
        if test_id is not None:
            answers.test_ids.add(test_id)
        body = request.get("body")
        arguments = dict(body) if isinstance(body, dict) else {}
        return Call(
            spec.name, key, index, arguments, test_id, request, keying,
            repeats=spec.repeats, own_kind=spec.own_kind, rules=rules,
        )  # fmt: skip
    bound = spec.bind(instance, args, kwargs)
    # through the write gate: the key is computed from what will be stored
    as_files = paths_keyed_as_files()
    name, key, for_key, for_store = spec.call_key(bound, test_id, rules)
    if (
        paths_keyed_as_files() != as_files
        and settings.mode in _LOOKING_UP
        and not answers.store.count(key)
    ):
        # a path may have been keyed otherwise when recorded (apirec.keys.files): absent then
        # (an output path the recorded call wrote), or as its text (by earlier versions)
        for older in OLDER_PATH_KEYS:
            with as_recorded(older):
                then = spec.call_key(bound, test_id, rules)
            if then[1] != key and answers.store.count(then[1]):
                name, key, for_key, for_store = then
                break
    index = next(answers.state(key).counter)
    owner = None if spec.shared else test_id
    if owner is not None:
        answers.test_ids.add(owner)  # the tests whose answers unplayed() judges
    if answers.renames is None:  # the hot path
        return Call(
            name, key, index, for_store, owner,
            repeats=spec.repeats, own_kind=spec.own_kind, rules=rules,
        )  # fmt: skip
    # renamed tests and older key rules are looked for: with the keyed arguments and spec
    return Call(
        name, key, index, for_store, owner,
        scoped=for_key, spec=spec, repeats=spec.repeats, own_kind=spec.own_kind, rules=rules,
    )  # fmt: skip
