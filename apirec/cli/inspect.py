"""``apirec ls``, ``show`` and ``diff``: read recordings without importing anything they name."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apirec.cli import ages
from apirec.cli.answers import Answers
from apirec.cli.base import UsageError, plural
from apirec.cli.common import (
    OK,
    PROBLEMS,
    Filters,
    Loaded,
    error,
    human_size,
    load,
    load_target,
    recording_files,
    recordings_dirs,
    say,
    shorten_end,
    table,
)
from apirec.cli.http_answers import http_answer
from apirec.errors import StoreError

# the keys of a typed value, from the pure gate: reading needs no codec (pydantic)
from apirec.gate.placeholders import DATA, STATE, TYPE
from apirec.stores import blobs
from apirec.stores.blob_files import BlobFiles
from apirec.stores.blobs import BLOB, SIZE
from apirec.stores.entry_summary import EntryInfo, arguments_of
from apirec.stores.ledger import tokens_text


@dataclass(frozen=True)
class _Row:
    """What ``ls`` keeps of a recording: its summary, not its content, so listing a store
    takes memory for the rows, not for the recordings."""

    info: EntryInfo
    dir: Path
    blobs: dict[str, int]
    age: dt.timedelta | None
    streamed: bool  # a stream to a person: not the httpx fallback's head and body chunks


def _files(path: str | None) -> Iterator[Path]:
    """The recordings at ``path``; with none, those of every ``recordings/`` directory under
    the working directory (not every JSON file of the project)."""
    if path is not None:
        yield from recording_files(Path(path))
        return
    found = recordings_dirs(Path("."))
    if not found:
        raise UsageError(
            "ls: no recordings/ directory under the working directory; give the directory "
            "the recordings are in: apirec ls DIR"
        )
    for directory in found:
        yield from recording_files(directory)


def ls(args: argparse.Namespace) -> int:
    found: list[_Row] = []
    broken = unknown_age = 0
    age_filter = ages.AgeFilter.of(args)
    filters = Filters(args.function, args.test)
    for path in _files(args.path):
        try:
            loaded = load(path)
        except StoreError as e:
            error(str(e))
            broken += 1
            continue
        if filters.selects(loaded.info):
            age = age_filter.age(loaded)
            if age_filter.keeps(age):
                streamed = _streamed(loaded)
                found.append(_Row(loaded.info, loaded.path.parent, loaded.blobs, age, streamed))
            elif age is None:
                unknown_age += 1
    filters.say_unmatched(Path(args.path or "."))
    left_out = f"{unknown_age} of unknown age (no recorded_at) left out" if unknown_age else ""
    found.sort(key=lambda r: (r.info.function, r.info.test_id or "", r.info.key, r.info.index))
    if args.json:
        rows_json = [
            r.info.as_json() | {"streamed": r.streamed, "age_seconds": _seconds(r.age)}
            for r in found
        ]
        json.dump(rows_json, sys.stdout, indent=2)
        print()
        if left_out:
            error(left_out)
        return PROBLEMS if broken else OK
    infos = [r.info for r in found]
    rows = [
        [
            i.function,
            short_test(i.test_id),
            i.key[:12] + (f".{i.index}" if i.index else ""),
            "yes" if r.streamed else "",
            "yes" if i.error else "",
            "" if i.tokens is None else tokens_text(i.tokens),
            "" if i.seconds is None else f"{i.seconds:.2f}s",
            ages.cell(r.age),
            f"{i.size:,}",
        ]
        for r, i in zip(found, infos, strict=True)
    ]
    if rows:
        headers = ["FUNCTION", "TEST", "KEY", "STREAMED", "ERROR", "TOKENS", "TOOK", "AGE", "SIZE"]
        # on a terminal, the function keeps its end (the method), the test its start
        table(rows, headers, sys.stdout, fit={0: "end", 1: "start"}, right=(5, 6, 8))
    # a blob several recordings share is on disk once
    shared = {(r.dir, d): n for r in found for d, n in r.blobs.items()}
    total = sum(r.info.size - sum(r.blobs.values()) for r in found) + sum(shared.values())
    local = sum(BlobFiles(home).path(d).is_file() for home, d in shared)
    kept = [plural(local, "blob")] if local else []
    if len(shared) > local:  # the others are on the remote (read through the cache)
        kept.append(f"{plural(len(shared) - local, 'object')} on the remote")
    say(
        f"{plural(len(found), 'recording')}, {human_size(total)}"
        + (f" ({', '.join(kept)})" if kept else "")
        + (f"; {left_out}" if left_out else "")
        + (f"; {broken} unreadable" if broken else ""),
        sys.stdout,
    )
    return PROBLEMS if broken else OK


def _streamed(loaded: Loaded) -> bool:
    http = http_answer(loaded.entry["response"])
    return loaded.info.streamed if http is None else http.streamed


def _seconds(age: dt.timedelta | None) -> int | None:
    return None if age is None else int(age.total_seconds())


def short_test(test_id: str | None) -> str:
    """``file.py::test_name[params]``: the node id without the directories."""
    if test_id is None:
        return "(shared)"
    path, sep, rest = test_id.partition("::")
    return Path(path).name + sep + rest


def readable(value: Any, indent: int = 0, home: Path | None = None) -> str:
    """JSON-like text where an envelope shows as ``TypeName(...)``: for people, not parsers.
    A payload kept apart shows where: in ``home``'s ``blobs/``, else on the remote."""
    pad = "  " * indent
    if isinstance(value, dict) and BLOB in value and isinstance(value.get(TYPE), str):
        short, digest = value[TYPE].rsplit(".", 1)[-1], str(value[BLOB])
        local = home is None or (blobs.is_digest(digest) and BlobFiles(home).path(digest).is_file())
        where = "in blobs/" if local else "on the remote (read through the cache), object "
        return f"{short}(<{value.get(SIZE)} bytes {where}{digest[:12]}…>)"
    if isinstance(value, dict):
        if set(value) - {STATE} == {TYPE, DATA} and isinstance(value[TYPE], str):
            short = value[TYPE].rsplit(".", 1)[-1]
            state = f", {STATE}={readable(value[STATE], indent, home)}" if STATE in value else ""
            return f"{short}({readable(value[DATA], indent, home)}{state})"
        if not value:
            return "{}"
        items = [
            f"{pad}  {json.dumps(k)}: {readable(v, indent + 1, home)}" for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if not value:
            return "[]"
        if all(v is None or isinstance(v, str | int | float) for v in value):
            inline = json.dumps(value, ensure_ascii=False)
            if len(inline) <= 80:
                return inline
        items = [f"{pad}  {readable(v, indent + 1, home)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


# the first item of a stream an integration of a stainless SDK stored (named, not imported:
# the CLI reads recordings without loading the integrations)
HTTP_HEAD = "apirec.integrations.stainless_replies.HttpHead"


def _type_of(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get(TYPE), str):
        return str(body[TYPE])
    return type(body).__name__ if body is not None else "null"


def _stream_text(chunks: list[Any]) -> str | None:
    """The text of a chat-completion stream: the deltas' content joined."""
    parts = []
    for chunk in chunks:
        data = chunk.get(DATA, chunk) if isinstance(chunk, dict) else None
        if not isinstance(data, dict):  # bytes, text: not a chat-completion chunk
            continue
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {} if isinstance(choice, dict) else {}
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts) if parts else None


def describe(loaded: Loaded, full: bool = False) -> list[str]:
    i, entry = loaded.info, loaded.entry
    response = entry["response"]
    request = entry.get("request") or {}
    text_of = functools.partial(readable, home=loaded.home)
    lines = [
        f"file:      {loaded.where}",
        f"function:  {i.function}",
        f"test:      {i.test_id or '(shared)'}",
        f"key:       {i.key}" + (f"  (answer #{i.index})" if i.index else ""),
        f"size:      {i.size:,} bytes",
        *ages.describe(loaded, dt.datetime.now(dt.UTC)),
        "arguments: " + text_of(arguments_of(request) if isinstance(request, dict) else None),
    ]
    body = response.get("body")
    if response.get("is_exception"):
        data = response.get("exception_data") or {}
        lines.append(f"raised:    {data.get('type', '?')}: {response.get('exception_message', '')}")
        extra = {k: v for k, v in data.items() if k not in ("type", "message")}
        if extra:
            lines.append("details:   " + text_of(extra))
    elif (http := http_answer(response)) is not None:
        lines.extend(http.describe(text_of, full))
    elif response.get("is_streaming") and isinstance(body, list):
        # the stainless SDKs' streams are stored after their HTTP head (status, headers),
        # which replay rebuilds the response from: not one of the chunks the caller iterates
        head = bool(body) and _type_of(body[0]) == HTTP_HEAD
        chunks = body[1:] if head else body
        kinds = sorted({_type_of(c).rsplit(".", 1)[-1] for c in chunks})
        after = " (after [0], the HTTP head: status and headers)" if head else ""
        lines.append(
            f"stream:    {plural(len(chunks), 'chunk')} of {', '.join(kinds) or 'nothing'}{after}"
        )
        if response.get("truncated"):
            reason = response.get("truncated_reason") or "no reason stored"
            lines.append(f"truncated: {reason} (replay past the end raises IncompleteRecording)")
        text = _stream_text(body)
        if text is not None:
            lines.append("text:      " + json.dumps(text, ensure_ascii=False))
        shown = list(enumerate(body))
        if not full and len(shown) > 8:  # the text above says what the middle holds
            shown = [*shown[:3], (-1, None), *shown[-2:]]
        for n, chunk in shown:
            if n < 0:
                lines.append(f"  ... {len(body) - 5} more chunks (--full shows all) ...")
                continue
            data = chunk.get(DATA, chunk) if isinstance(chunk, dict) else chunk
            compact = json.dumps(data if full else _without_nulls(data), ensure_ascii=False)
            lines.append(f"  [{n}] " + (compact if full else shorten_end(compact, 150)))
    else:
        lines.append(f"returned:  {text_of(body)}")
    return [line for text in lines for line in text.split("\n")]


def _comparable(lines: list[str]) -> list[str]:
    # the file names are the diff's labels; the sizes differ whenever anything does; two
    # recordings of the same answer were made at different times
    return [line for line in lines if not line.startswith(("file:", "size:", "recorded:"))]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def show(args: argparse.Namespace) -> int:
    loaded = load_target(args.target, Path(args.dir))
    if args.json:
        print(json.dumps(loaded.entry, indent=2))
        return OK
    # a body kept apart is read to be shown, as replay reads it; when it cannot be, the
    # reference is shown and the note says why
    note = None
    try:
        loaded = _with_body(loaded, Answers(args.remote, "show"))
    except StoreError as e:
        note = str(e)
    print("\n".join(describe(loaded, full=args.full)))
    if note is not None:
        print(f"note:      {note}")
    return OK


def _with_body(loaded: Loaded, answers: Answers) -> Loaded:
    entry = answers.with_body(loaded.entry, loaded.where, loaded.home)
    return loaded if entry is loaded.entry else dataclasses.replace(loaded, entry=entry)


def diff(args: argparse.Namespace) -> int:
    import difflib

    root = Path(args.dir)
    answers = Answers(args.remote, "diff")  # bodies kept apart compared as replay reads them
    a = _with_body(load_target(args.a, root), answers)
    b = _with_body(load_target(args.b, root), answers)
    lines = list(
        difflib.unified_diff(
            _comparable(describe(a, full=True)),
            _comparable(describe(b, full=True)),
            a.where,
            b.where,
            n=args.context,
            lineterm="",
        )
    )
    if not lines:
        print("same recording content")
        return OK
    print("\n".join(lines))
    return PROBLEMS
