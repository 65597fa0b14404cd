"""``apirec stats DIR... [--by test|function|model] [--prices FILE] [--json]``: what the
recorded calls took live and spent, from their ledgers (:mod:`apirec.stores.ledger`), per
group and in total; recordings made before the ledger count as unknown.

The ledger is part of a recording's stored form: what a recording keeps apart (a body in a
remote store, bytes in ``blobs/``) is not read, so stats needs no remote. A recording named
twice (``stats DIR DIR/x.json``; ``DIR/*``, which gives a msgpack store's file and its index)
counts once."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from apirec.cli.base import OK, PROBLEMS, UsageError, error, plural
from apirec.cli.common import load, msgpack_stores, recording_files, table
from apirec.errors import StoreError
from apirec.record.savings import Prices, Totals, add_up, load_prices
from apirec.stores.entry_summary import function_of, test_id_of
from apirec.stores.json_store import Entry
from apirec.stores.ledger import money_text, read, tokens_text

NO_GROUP = {"test": "(no test)", "function": "?", "model": "(unknown model)"}


def _entries(target: Path, broken: list[str], seen: set[Path]) -> Iterator[Entry]:
    for path in recording_files(target, msgpack=True):
        if _again(path, seen):
            continue
        try:
            yield load(path).entry
        except StoreError as e:
            broken.append(str(e))
    for root in msgpack_stores(target):
        from apirec.stores.msgpack.store import MsgpackStore

        if _again(root, seen):
            continue
        try:
            store = MsgpackStore(root)
        except StoreError as e:
            broken.append(str(e))
            continue
        try:
            for key, index, _ in list(store.entries()):
                try:
                    entry = store.read(key, index, resolve_blobs=False)  # the ledger
                except StoreError as e:
                    broken.append(str(e))
                    continue
                if entry is not None:
                    yield entry
        finally:
            store.close()


def _again(path: Path, seen: set[Path]) -> bool:
    """Whether ``path`` was read already (noted now if not)."""
    resolved = path.resolve()
    if resolved in seen:
        return True
    seen.add(resolved)
    return False


def _group_of(entry: Entry, by: str) -> str:
    if by == "test":
        return test_id_of(entry) or NO_GROUP[by]
    if by == "model":
        return read(entry)[2] or NO_GROUP[by]
    request = entry.get("request")
    return function_of(request) if isinstance(request, dict) else NO_GROUP[by]


def _as_json(name: str | None, calls: int, totals: Totals, prices: Prices | None) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name} if name is not None else {}
    found.update(
        calls=calls,
        live_seconds=round(totals.seconds, 2),
        input_tokens=totals.input_tokens,
        output_tokens=totals.output_tokens,
        unknown=totals.unknown,
        # the tokens (and cost) of these answers are unknown: the counts above are a floor
        unknown_usage=totals.unknown_usage,
    )
    if prices is not None:
        # null: no answer is priced, and some are unpriced or of unknown usage (not free);
        # else the priced answers' cost, the whole cost when cost_complete
        cost = round(totals.cost, 10) if totals.cost_known else None
        found.update(cost=cost, cost_complete=totals.cost_complete, unpriced=totals.unpriced)
    return found


def _cost_cell(totals: Totals) -> str:
    """``$0.0012``; ``unpriced`` when no answer's model is priced, ``unknown`` when no answer
    is priced and some report no usage; ``$0.41+`` when some are not priced or report no usage
    (what the priced ones cost: a floor)."""
    if not totals.cost_known:
        return "unknown" if totals.unknown_usage else "unpriced"
    return money_text(totals.cost) + ("" if totals.cost_complete else "+")


def _floor(text: str, unknown: int, calls: int) -> str:
    """A sum over ``calls`` answers of which ``unknown`` are not known: ``unknown`` when none
    is, ``12.3k+`` (a floor) when some are."""
    if not unknown:
        return text
    return "unknown" if unknown >= calls else text + "+"


def stats(args: argparse.Namespace) -> int:
    try:
        prices = load_prices(args.prices) if args.prices else None
    except ValueError as e:
        raise UsageError(f"stats --prices: {e}") from None
    broken: list[str] = []
    grouped: dict[str, list[Entry]] = {}
    seen: set[Path] = set()
    for directory in args.paths:
        for entry in _entries(Path(directory), broken, seen):
            grouped.setdefault(_group_of(entry, args.by), []).append(entry)
    for problem in broken:
        error(problem)
    everything = [entry for entries in grouped.values() for entry in entries]
    total = add_up(everything, prices)
    groups = sorted(
        ((name, len(entries), add_up(entries, prices)) for name, entries in grouped.items()),
        key=lambda g: (-g[2].seconds, g[0]),
    )
    if args.json:
        report = _as_json(None, len(everything), total, prices)
        report[f"by_{args.by}"] = [_as_json(n, c, t, prices) for n, c, t in groups]
        json.dump(report, sys.stdout, indent=2)
        print()
        return PROBLEMS if broken else OK
    headers = [args.by.upper(), "CALLS", "LIVE", "INPUT", "OUTPUT"]
    if total.unknown_usage:  # a column of its own only when some answer's tokens are unknown
        headers.append("NO USAGE")
    if prices is not None:
        headers.append("COST")
    rows = []
    for name, calls, totals in [*groups, ("total", len(everything), total)]:
        row = [
            name,
            f"{calls:,}",
            _floor(f"{totals.seconds:,.1f}s", totals.unknown, calls),
            _floor(tokens_text(totals.input_tokens), totals.unknown_usage, calls),
            _floor(tokens_text(totals.output_tokens), totals.unknown_usage, calls),
        ]
        if total.unknown_usage:
            row.append(f"{totals.unknown_usage:,}")
        if prices is not None:
            row.append(_cost_cell(totals))
        rows.append(row)
    table(rows, headers, sys.stdout, fit={0: "start" if args.by == "test" else "end"})
    if total.unknown:
        print(
            f"{plural(total.unknown, 'recording')} made before the ledger: time, tokens and "
            f"cost unknown"
        )
    if total.no_usage:
        print(
            f"{plural(total.no_usage, 'answer')} of a model that reported no usage (an openai "
            f'stream without stream_options={{"include_usage": True}}): tokens and cost unknown'
        )
    if total.unknown_usage:
        print("NO USAGE: answers whose tokens are unknown; a sum with + adds up only the others")
    if prices is not None and total.unpriced:
        print(
            f"{plural(total.unpriced, 'recording')} of models the prices do not list: cost "
            f"unknown (a cost with + is what the priced ones cost)"
        )
    return PROBLEMS if broken else OK
