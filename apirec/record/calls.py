"""One intercepted call, keyed, and the books kept per key and per recording."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from apirec.gate.rules import NO_RULES, Rules
from apirec.keys.spec import Keying, KeySpec
from apirec.record.settings import Settings
from apirec.stores.json_store import JsonStore, Store


@dataclass
class Stats:
    """What happened to the calls of one recording."""

    replayed: int = 0
    recorded: int = 0
    live: int = 0
    missed: int = 0
    # errors the calls raised that were not stored (transient; see store_errors=)
    errors_not_stored: int = 0
    # errors an SDK's client raised before any request (apirec.record.client_errors)
    client_errors: int = 0
    # of the misses (each counted as exactly one kind: Answers.missed): the test (shared
    # recordings, for a shared function) has a stored call of the function that differs or
    # one call fewer (changed), or has none (new); or its answer expired (on_expired="fail")
    missed_changed: int = 0
    missed_new: int = 0
    missed_expired: int = 0
    # what the replayed answers took live, from their ledgers (apirec.record.savings): the
    # replays of answers recorded before the ledger are unknown; with prices, their cost
    # (unpriced: a model the prices do not list)
    saved_seconds: float = 0.0
    saved_input_tokens: int = 0
    saved_output_tokens: int = 0
    saved_unknown: int = 0
    saved_no_usage: int = 0  # replays of answers that name a model and report no usage
    saved_cost: float = 0.0
    saved_unpriced: int = 0
    # what the recorded answers spent live, from their ledgers (the record budget's measure)
    spent_seconds: float = 0.0
    spent_tokens: int = 0
    spent_cost: float = 0.0
    spent_no_usage: int = 0  # live answers that name a model and report no usage
    # live calls the record budget refused before they were made
    refused_by_budget: int = 0


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~0.8 µs per call
class Call:
    """One intercepted call, keyed: the n-th call (``index``) with this ``key``. Made once
    per call and never changed after."""

    function: str
    key: str
    index: int
    arguments: dict[str, Any]
    test_id: str | None
    # set when the function is keyed by another format (apirec.keys.spec.Keying): its stored request
    request: dict[str, Any] | None = None
    keying: Keying | None = None
    # the arguments as keyed (KeySpec.canonical's for_key); only set when renamed tests are
    # looked for (apirec.record.renames), which recompute the key under another test id
    scoped: dict[str, Any] | None = None
    # the function's key rules, set with ``scoped``: recordings made under older rules are
    # keyed again with them (apirec.record.key_rules)
    spec: KeySpec | None = None
    # the function's repeats= (apirec.record.sequences), None: the recording's
    repeats: str | None = None
    # the stream kind of its answers is the function's own (@record, KeySpec.own_kind)
    own_kind: bool | str = False  # "generator": a generator function's (KeySpec)
    # the scrub= rules of the function and the recording, for the write gate
    rules: Rules = NO_RULES


@dataclass
class KeyState:
    counter: itertools.count[int] = field(default_factory=itertools.count)
    stored: int | None = None  # number of stored answers, once probed
    reset_done: bool = False
    # calls (by index) that ended with no answer to store: cancelled, interrupted, unstorable
    abandoned: list[int] = field(default_factory=list)
    # calls (by index) that went to the real function and whose answer is not stored yet
    pending: set[int] = field(default_factory=set)

    def slot_of(self, index: int) -> int:
        """Where the answer of call ``index`` goes: its index, less the calls before it that
        will never store one (so that a sequence keeps no hole)."""
        abandoned = self.abandoned
        if not abandoned:
            return index
        return index - sum(1 for i in abandoned if i < index)


def open_store(settings: Settings) -> Store:
    remote = None
    if settings.remote is not None:  # obstore is imported when the first object is
        from apirec.stores.remote.payloads import RemotePayloads

        remote = RemotePayloads.open(settings.remote, settings.path, settings.remote_options)
    if settings.store == "msgpack":
        from apirec.stores.msgpack.store import MsgpackStore

        return MsgpackStore(settings.path, remote=remote)
    return JsonStore(settings.path, remote=remote)
