"""Messages for a replay miss: what was asked, the closest stored call, how to record it.

The closest call is looked for only when a miss happens (it lists and reads the store, ~40 ms
per 1,000 files), never on the path of a call that replays; the recorder asks for it on the
first few misses of a recording only.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apirec.codec.envelope import encode
from apirec.errors import ApirecError, RecordingNotFound, called
from apirec.record.record_advice import default_record_command
from apirec.stores.entry_summary import arguments_of, function_of, test_id_of
from apirec.stores.json_store import Store

# A miss reads at most this many files looking for the closest call: bounded on huge stores.
MAX_SCANNED = 5000
SAME_TEST_BONUS = 0.2


def pretty(arguments: Any) -> str:
    data = encode(dict(arguments)) if isinstance(arguments, Mapping) else arguments
    return json.dumps(data, indent=2, sort_keys=True, default=repr)


@dataclass(frozen=True)
class Nearest:
    where: str
    test_id: str | None
    arguments: Any


def closest_call(
    store: Store, function: str, arguments: Mapping[str, Any], test_id: str | None
) -> Nearest | None:
    """The stored call of ``function`` whose arguments look most like these.

    A call of the same test gets a head start: an argument that changed in this test is the
    likelier story than a near-identical call of another test (which a rename explains).
    """
    asked = pretty(arguments).splitlines()
    best: tuple[float, Nearest] | None = None
    try:
        for scanned, (key, index, where) in enumerate(store.entries()):
            if scanned >= MAX_SCANNED:
                break
            if index:  # every answer of a key has the same arguments
                continue
            try:
                entry = store.read(key, index, resolve_blobs=False)  # the request only
            except ApirecError:
                continue  # a broken file gets its own error when it is asked for
            request = entry.get("request") if entry else None
            if not isinstance(request, dict) or function_of(request) != function:
                continue
            stored = arguments_of(request)
            lines = pretty(stored).splitlines()
            ratio = difflib.SequenceMatcher(None, asked, lines, autojunk=False).ratio()
            owner = test_id_of(entry) if entry else None
            rank = ratio + (SAME_TEST_BONUS if owner == test_id else 0.0)
            if best is None or rank > best[0]:
                best = (rank, Nearest(where, owner, stored))
    except OSError:
        return None
    return best[1] if best else None


def _diff(nearest: Nearest, arguments: Mapping[str, Any]) -> list[str]:
    stored = pretty(nearest.arguments).splitlines()
    asked = pretty(arguments).splitlines()
    return list(difflib.unified_diff(stored, asked, "stored call", "this call", n=2, lineterm=""))


def other_store_hint(location: str, switch: str | None = None) -> str | None:
    """A miss in one kind of store over a directory that holds the other kind: say so, in the
    spelling of the caller's setting (``switch``, formatted with ``kind``: the pytest plugin's
    option), else as ``recording``'s argument."""
    # only a miss asks: a run of JSON recordings never loads the msgpack store
    from apirec.stores.msgpack import FILE_NAME

    spelling = switch or 'store="{kind}"'
    path = Path(location)
    try:
        if path.name == FILE_NAME:
            if next(path.parent.glob("*.json"), None) is not None:
                how = spelling.format(kind="json")
                return f"{path.parent} holds JSON recordings: open it with {how}."
        elif (path / FILE_NAME).is_file():
            how = spelling.format(kind="msgpack")
            return f"{path} holds a msgpack store ({FILE_NAME}): open it with {how}."
    except OSError:
        pass
    return None


def recording_not_found(
    *,
    function: str,
    key: str,
    arguments: Mapping[str, Any],
    location: str,
    test_id: str | None,
    store: Store | None = None,
    record_command: str | None = None,
    renamed: list[str] | None = None,
    store_switch: str | None = None,
) -> RecordingNotFound:
    lines = [
        f"No recording of {called(function)} for this call (mode 'replay').",
        f"  key:       {key}",
        f"  test:      {test_id or '(none: outside any test context)'}",
        f"  store:     {location}",
        "  arguments:",
        *("    " + line for line in pretty(arguments).splitlines()),
    ]
    nearest = None
    if store is not None and not renamed:
        nearest = closest_call(store, function, arguments, test_id)
    if renamed:  # the recordings of a renamed test: the likeliest story, told first
        lines.extend(renamed)
    elif store is None:
        lines.append("(No search for the closest stored call: done for the first misses only.)")
    elif nearest is None:
        lines.append(f"No stored call of {called(function)} in this store to compare with.")
    else:
        lines.append(f"Closest stored call of {called(function)}: {nearest.where}")
        if nearest.test_id != test_id:
            lines.append(f"  recorded by test: {nearest.test_id or '(none: shared)'}")
        diff = _diff(nearest, arguments)
        if diff:
            lines.append("  arguments, stored -> this call:")
            lines.extend("    " + line for line in diff)
        else:
            lines.append(
                "  same arguments: the key differs by test id (keys are scoped by test; "
                "record(..., shared=True) shares them across tests)"
            )
    hint = other_store_hint(location, store_switch)
    if hint:
        lines.append(hint)
    lines.append("To record it, run:")
    lines.append("  " + (record_command or default_record_command()))
    return RecordingNotFound(
        "\n".join(lines),
        function=function,
        key=key,
        arguments=arguments,
        location=location,
        test_id=test_id,
    )
