"""``apirec verify DIR [--trust PKG ...] [--strict]``: can every recording be replayed?

Each file, and each recording of a msgpack store, is read and decoded under the rules of
replay (DESIGN §4), where the packages "already imported by the process under test" are the
ones named with ``--trust``, and apirec itself (its own types, such as the head an SDK stream
stores first). A msgpack store's file is read frame by frame from its start:
damage and a last frame cut short are problems, named with their byte offset.
Unreadable or malformed files, a blob (``blobs/<sha256>``) a recording refers to that is
missing or altered, and values of types that resolve but do not decode, are problems
(exit 1); blobs no recording refers to are listed. Types that decoding may not import, or
cannot find, are listed with a count; they fail only with ``--strict``. Error classes that
cannot be rebuilt replay as ``apirec.ReplayedError`` and are listed for information, as are
provider errors in llama-stack's form, which ``patch_openai(rec, keys="llama-stack")``
rebuilds as the SDK's classes.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apirec.cli.answers import Answers
from apirec.cli.base import plural
from apirec.cli.common import (
    OK,
    PROBLEMS,
    blob_homes,
    msgpack_stores,
    recording_files,
    say,
    table,
)
from apirec.cli.progress import Progress
from apirec.codec.envelope import _CONTAINERS, _SCALAR_DECODERS, DATA, TYPE, decode
from apirec.codec.model_state import STATE
from apirec.codec.type_resolution import REGISTRY, Unresolvable, _trusted, resolve
from apirec.errors import DecodeError, StoreError, command
from apirec.stores.blob_files import BlobFiles, recordings_beside
from apirec.stores.json_listing import FILE_RE
from apirec.stores.json_store import Entry


def type_names(value: Any) -> Iterator[str]:
    """Every envelope type named in ``value``, outermost first."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = item.get(TYPE)
            if isinstance(name, str):
                yield name
                stack.append(item.get(DATA))
                stack.append(item.get(STATE))  # typed values a model's dump loses
            else:
                stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def unresolved(name: str, trusted: tuple[str, ...]) -> str | None:
    """Why ``name`` cannot be rebuilt here, or None when it can."""
    if name in _CONTAINERS or name in _SCALAR_DECODERS or name == "builtins.dict":
        return None
    if REGISTRY.for_name(name) is not None:
        return None
    top = name.split(".", 1)[0]
    # Only --trust counts, not what this process happens to have imported: the answer must
    # not depend on which command ran before in the same interpreter.
    if not _trusted(name, trusted):
        return f"not allowed to import (--trust {top})"
    try:
        resolve(name, trusted)
    except Unresolvable as e:
        return "not found" if e.allowed else f"not buildable: {e}"
    return None


@dataclass
class Report:
    files: int = 0
    problems: list[str] = field(default_factory=list)
    types: Counter[tuple[str, str]] = field(default_factory=Counter)  # (type, why) -> files
    errors: Counter[str] = field(default_factory=Counter)  # error classes not rebuilt
    provider_errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # llama-stack's


def check(path: Path, trusted: tuple[str, ...], report: Report, answers: Answers) -> None:
    report.files += 1
    try:  # each object it refers to there, intact: read as replay reads it
        loaded = answers.load(path)
    except StoreError as e:
        report.problems.append(str(e))
        return
    check_entry(str(path), loaded.entry, trusted, report)


def check_store(
    root: Path,
    trusted: tuple[str, ...],
    report: Report,
    answers: Answers,
    step: Callable[[], None] = lambda: None,
) -> None:
    """A msgpack store: every frame of its file (damage, a torn tail), then every recording."""
    try:
        # every frame from the start, past damage
        whole = answers.store(root, salvage=True)
    except StoreError as e:
        report.problems.append(str(e))
        return
    try:
        for d in whole.damage:
            what = whole.held(d)
            report.problems.append(
                f"{whole.path}: damaged at byte {d.offset}: {d}"
                + (f"; it seems to have held {what}" if what else "")
                + f" ({command('apirec', 'repair', root)} drops it, keeping a backup)"
            )
        if whole.torn is not None:
            report.problems.append(
                f"{whole.path}: the last frame is cut short at byte {whole.torn.offset} "
                f"({whole.torn.problem}): a writer died while appending it, or is appending "
                f"now; the next write cuts it off, and so does {command('apirec', 'repair', root)}"
            )
        index_problem = whole.index_problem()
        if index_problem is not None:
            report.problems.append(
                f"{index_problem} ({command('apirec', 'repair', root)} rebuilds it)"
            )
        for key, missing, later in whole.holes():
            fix = f"{command('apirec', 'repair', root)} moves them to a backup"
            report.problems.append(hole(whole.describe(key, later[0]), missing, len(later), fix))
        # intact: read as replay reads it, through the index; damaged: what can be read
        store = whole if whole.damage or index_problem else answers.store(root)
        try:
            for key, index, where in list(store.entries()):
                report.files += 1
                step()
                try:
                    entry = store.read(key, index)
                except StoreError as e:
                    report.problems.append(str(e))
                    continue
                if entry is not None:
                    check_entry(where, entry, trusted, report)
        except StoreError as e:  # the index
            report.problems.append(str(e))
        finally:
            store.close()
    finally:
        whole.close()


def hole(where: str, missing: int, after: int, fix: str) -> str:
    return (
        f"{where}: a sequence with a hole: its answer {missing + 1} (slot {missing}) is "
        f"missing, so replay never reaches the {after:,} answer{'s' * (after > 1)} after it; "
        f"{fix}, then record the sequence again"
    )


def json_holes(paths: list[Path], report: Report) -> None:
    """Sequences of the JSON store (``key.json``, ``key.1.json``, ...) with a hole."""
    slots: dict[tuple[Path, str], list[int]] = {}
    for path in paths:
        m = FILE_RE.match(path.name)
        if m:
            slots.setdefault((path.parent, m["key"]), []).append(int(m["index"] or 0))
    for (parent, key), found in sorted(slots.items()):
        found.sort()
        first = next((n for n, i in enumerate(found) if i != n), None)
        if first is not None:
            at = found[first]
            name = f"{key}.json" if at == 0 else f"{key}.{at}.json"
            fix = f"delete {name} and the later answers of {key}"
            report.problems.append(hole(str(parent / name), first, len(found) - first, fix))


def check_entry(where: str, entry: Entry, trusted: tuple[str, ...], report: Report) -> None:
    response = entry["response"]
    if response.get("is_exception"):
        data = response.get("exception_data") or {}
        name = data.get("type") if isinstance(data, dict) else None
        why = unresolved(name, trusted) if isinstance(name, str) and "." in name else "unknown"
        if isinstance(data, dict) and data.get("category") == "provider_sdk":
            report.provider_errors[(str(data.get("provider")), str(name))] += 1
        elif why is not None:
            report.errors[str(name)] += 1
    body = response.get("body")
    missing = {(n, why) for n in set(type_names(body)) if (why := unresolved(n, trusted))}
    report.types.update(missing)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unresolved types are counted above
            decode(body, trusted_modules=trusted, strict_types=not missing, file=where)
    except DecodeError as e:
        report.problems.append(str(e))


def verify(args: argparse.Namespace) -> int:
    trusted = tuple(args.trust or ())
    report = Report()
    paths = list(recording_files(Path(args.path), msgpack=True))
    stores = msgpack_stores(Path(args.path))
    answers = Answers(args.remote, "verify")
    with Progress("verify", quiet=args.quiet) as progress:
        progress.total = None if stores else len(paths)  # a store's count is known when read
        for path in paths:
            check(path, trusted, report, answers)
            progress.step()
        json_holes(paths, report)
        for root in stores:
            check_store(root, trusted, report, answers, progress.step)
    out = sys.stdout
    for problem in report.problems:
        say(f"PROBLEM  {problem}", out)
    gap = "\n" if report.problems else ""
    if report.types:
        title = (
            "Types not rebuilt with only the modules trusted here (DecodeError, unless trusted):"
        )
        print(gap, end="", file=out)
        say(title, out)
        rows = [[f"{n:,}", name, why] for (name, why), n in sorted(report.types.items())]
        table(rows, ["FILES", "TYPE", "WHY"], out, fit={1: "end", 2: "start"})
        gap = "\n"
    if report.errors:
        title = (
            "Recorded errors that replay as apirec.ReplayedError unless their modules are trusted:"
        )
        print(gap, end="", file=out)
        say(title, out)
        rows = [[f"{n:,}", name] for name, n in sorted(report.errors.items())]
        table(rows, ["FILES", "CLASS"], out, fit={1: "end"})
        gap = "\n"
    untrusted = _untrusted(report)
    if untrusted:
        trust = [word for name in [*trusted, *untrusted] for word in ("--trust", name)]
        say("(judged in this process, which trusts only apirec and the modules --trust names;", out)
        say(
            "your tests, whose integrations trust their SDKs, may replay these as the SDK's own)",
            out,
        )
        say("check them as replayed with:", out)
        # whole on a terminal too, to be copied (which a terminal's own wrapping keeps)
        print("  " + command("apirec", "verify", Path(args.path), *trust), file=out)
    if report.provider_errors:
        title = (
            "Recorded provider errors in llama-stack's form (rebuilt as the SDK's own class "
            'by patch_openai(rec, keys="llama-stack")):'
        )
        print(gap, end="", file=out)
        say(title, out)
        rows = [[f"{n:,}", *names] for names, n in sorted(report.provider_errors.items())]
        table(rows, ["FILES", "PROVIDER", "CLASS"], out)
        gap = "\n"
    orphans = _unreferenced_blobs(Path(args.path))
    if orphans:
        print(gap, end="", file=out)
        say(
            f"{plural(len(orphans), 'blob')} no recording refers to (apirec prune "
            f"deletes them with the recordings it deletes), such as {orphans[0]}",
            out,
        )
        gap = "\n"
    strict_fail = args.strict and bool(report.types)
    status = "FAILED" if report.problems or strict_fail else "ok"
    print(gap, end="", file=out)
    say(
        f"{status}: {plural(report.files, 'recording')} checked, "
        f"{plural(len(report.problems), 'problem')}, "
        f"{plural(len(report.types), 'type')} not resolved"
        + (" (--strict)" if strict_fail else ""),
        out,
    )
    return PROBLEMS if report.problems or strict_fail else OK


def _untrusted(report: Report) -> list[str]:
    """The packages of the types and errors not resolved because --trust did not name them."""
    names = [name for (name, why), _ in report.types.items() if why.startswith("not allowed")]
    return sorted({name.split(".")[0] for name in [*names, *report.errors] if "." in name})


def _unreferenced_blobs(target: Path) -> list[Path]:
    """Blobs beside the recordings checked that none of them refers to: not a problem (they
    cost only space), but worth knowing."""
    found: list[Path] = []
    for home in blob_homes(target):
        found += BlobFiles(home).unreferenced(recordings_beside(home))[0]
    return found
