"""Recordings orphaned by a change of key rules, found again from the arguments they stored.

Adding ``ignore=["request_id"]``, a ``normalize=``, a ``scrub=`` rule or an SDK's default
exclusion changes the key of every call of a function, so each stored answer becomes a miss.
On a miss, the recordings of the same function and test (shared ones, for a shared function)
are keyed again from their stored arguments (``request.args``) through the function's
:class:`~apirec.keys.spec.KeySpec` of today, with the test id as scope: those that give the
missing key were recorded under older rules. ``--apirec-rekey`` moves them (see
:meth:`apirec.record.renames.Renames.move_older`); nothing is recorded again.

Stored arguments are canonical values encoded as data: :func:`~apirec.codec.envelope.decode`
rebuilds the few typed ones they hold (bytes, dicts with keys that are not text), and a
``"<redacted>"`` placeholder stays redacted: a secret is dropped from the key again, by its
name or, for a header pair stored as a list, by turning the pair back into the tuple it was.
Several old keys that now give one key are one sequence today: their answers merge in the
order they were recorded (``recorded_at``), or are not moved when that cannot tell.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apirec.codec.envelope import decode
from apirec.errors import ApirecError
from apirec.gate.rules import NO_RULES, Rules
from apirec.keys.marks import REDACTED
from apirec.keys.spec import KeySpec
from apirec.stores.json_store import Store

HINT = "Run pytest with --apirec-rekey to move them to this call's key (nothing is recorded)."


@dataclass(frozen=True)
class OlderRules:
    """Recordings whose stored arguments give a missing key under today's key rules."""

    keys: tuple[str, ...]  # their keys
    files: tuple[str, ...]  # every answer's file, in the order they move
    # (key, index) of every answer in the order they move; None when the recording times
    # cannot tell how the answers of several old keys interleave
    order: tuple[tuple[str, int], ...] | None


def key_today(spec: KeySpec, stored: Any, scope: str | None, rules: Rules = NO_RULES) -> str | None:
    """The key a call with these stored arguments gets under ``spec``'s rules today, or None
    when they cannot be keyed (not apirec's arguments, undecodable, refused by normalize=)."""
    try:
        arguments = decode(stored)
    except (ApirecError, ValueError, TypeError):
        return None
    if type(arguments) is not dict or not all(type(k) is str for k in arguments):
        return None
    try:
        # through the write gate, as a live call is keyed (scrub= is a key rule too)
        # ``rules``: the call's, the function's own among them (none given: the function's own)
        given = None if rules is NO_RULES else rules
        return spec.call_key(_redacted_pairs(arguments), scope, given)[1]
    except Exception:  # the user's normalize=, or a value with no canonical form today
        return None


def _redacted_pairs(value: Any) -> Any:
    """A stored ``[name, "<redacted>"]`` back to the header pair ``(name, ...)`` it was, so
    that canonicalising redacts it again (a list of two strings is not a header pair)."""
    t = type(value)
    if t is dict:
        return {k: _redacted_pairs(v) for k, v in value.items()}
    if t is list:
        if len(value) == 2 and type(value[0]) is str and value[1] == REDACTED:
            return (value[0], REDACTED)
        return [_redacted_pairs(v) for v in value]
    return value


# (store location, old key, spec, scope, scrub rules) -> the old key's key today (None: cannot
# be keyed)
Today = dict[tuple[str, str, KeySpec, str | None, Rules], str | None]


def find(
    store: Store,
    spec: KeySpec,
    candidates: Iterable[str],
    key: str,
    scope: str | None,
    today: Today | None = None,
    rules: Rules = NO_RULES,
) -> OlderRules | None:
    """Among ``candidates`` (keys of the same function and test), those recorded under older
    rules that give ``key`` today, or None. ``today`` keeps what each candidate gives, for
    the next misses of the session (a test with many calls misses once per call)."""
    today = {} if today is None else today
    matching = []
    for old in candidates:
        if old == key:
            continue
        cached = (store.location, old, spec, scope, rules)
        if cached not in today:
            today[cached] = _stored_key_today(store, spec, old, scope, rules)
        if today[cached] == key:
            matching.append(old)
    if not matching:
        return None
    if len(matching) == 1:
        (old,) = matching
        order: tuple[tuple[str, int], ...] | None = tuple((old, i) for i in range(store.count(old)))
    else:
        order = _merged({old: _times(store, old) for old in matching})
    answers = order or tuple((old, i) for old in matching for i in range(store.count(old)))
    files = tuple(store.describe(k, i) for k, i in answers)
    return OlderRules(tuple(matching), files, order)


def _stored_key_today(
    store: Store, spec: KeySpec, old: str, scope: str | None, rules: Rules
) -> str | None:
    try:
        entry = store.read(old, 0)
    except ApirecError:
        return None  # a broken file gets its own error when it is asked for
    request = entry.get("request") if entry else None
    stored = request.get("args") if isinstance(request, dict) else None
    return None if stored is None else key_today(spec, stored, scope, rules)


def _times(store: Store, key: str) -> list[str | None]:
    """When each answer of ``key`` was recorded (None: not stored, or unreadable)."""
    times: list[str | None] = []
    for index in range(store.count(key)):
        try:
            entry = store.read(key, index)
        except ApirecError:
            entry = None
        recorded = entry.get("recorded_at") if entry else None
        times.append(recorded if isinstance(recorded, str) else None)
    return times


def _merged(times: dict[str, list[str | None]]) -> tuple[tuple[str, int], ...] | None:
    """The answers of several keys in the order they were recorded, each key's in its own
    order; None when a time is missing or two keys' next answers share a second."""
    if any(t is None for seq in times.values() for t in seq):
        return None
    heads = [(seq[0], key) for key, seq in times.items() if seq]
    heapq.heapify(heads)
    position = dict.fromkeys(times, 0)
    merged: list[tuple[str, int]] = []
    while heads:
        at, key = heapq.heappop(heads)
        if heads and heads[0][0] == at:
            return None  # recorded in the same second: the order of the calls is unknown
        index = position[key]
        merged.append((key, index))
        position[key] = index + 1
        following = times[key][index + 1 :]
        if following:
            heapq.heappush(heads, (str(following[0]), key))
    return tuple(merged)


def miss_lines(found: OlderRules | None, *, shared: bool, rekey: bool, hint: str) -> list[str]:
    """What a miss says about the recordings made under older key rules that answer it."""
    if found is None:
        return []
    whose = "shared recordings" if shared else "recordings of this test"
    lines = [
        f"This call matches {whose} made under older key rules (ignore=, normalize=, scrub= "
        f"or an SDK's defaults changed since they were recorded):",
        *(f"  recorded under older key rules: {file}" for file in found.files),
    ]
    if found.order is None:
        lines.append(
            f"  {'not moved' if rekey else '--apirec-rekey will not move them'}: "
            f"{len(found.keys)} old keys give this key today, and their recording times "
            f"cannot tell in which order the calls came; record again"
        )
    elif hint:
        lines.append(f"  {HINT}")
    return lines
