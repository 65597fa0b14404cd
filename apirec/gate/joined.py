"""Secrets split across a stream's chunks: joined per place, found, cut out of the pieces.

A service that echoes a key in a stream may cut it anywhere (``"sk-proj-"``, ``"Ab3dEf6h"``,
...): no chunk holds a token shape, the text they make does. So, for a stored stream, the
strings at the same place in the chunks (``__data__.choices[0].delta.content``, anthropic's
``__data__.delta.text``, ollama's ``message.content``) are joined in order, the detector and
the user's ``scrub=`` rules run over the joined text, and each match is cut out of the pieces
it came from: the piece where it starts ends with ``<redacted>``, the others lose their part,
so the joined text reads ``...<redacted>...`` and every chunk keeps its type and place.

A list element with an int ``index`` (openai's choices and tool calls) is placed by it, not
by its position, so interleaved choices are each joined on their own. A chunk without a
string there (a ping, a ``None``) does not break the text. Places whose strings are all
equal (ids, model names, event types) are no text and are not joined. The pieces come from
the walk, so a match inside one chunk is gone already: what is found here crosses chunks.
"""

from __future__ import annotations

import bisect
from typing import Any

from apirec.gate.detect import PLACEHOLDER, SHORTEST, find_spans
from apirec.gate.rules import Rules

TYPE, DATA = "__type__", "__data__"
Key = str | int | tuple[str, int]
Edit = tuple[int, int, str]  # (start, end, replacement) in the joined text
Piece = tuple[int, tuple[Any, ...], str]  # (chunk number, where in the chunk, text)
Finding = tuple[str, str]


def _strings(value: Any, place: tuple[Key, ...], where: tuple[Any, ...], chunk: int,
             out: dict[tuple[Key, ...], list[Piece]]) -> None:  # fmt: skip
    """Every non-empty string in ``value`` (a dict or a list), by its place."""
    if type(value) is dict:
        items: Any = value.items()
    else:
        items = enumerate(value)
    for k, v in items:
        t = type(v)
        if t is str:
            if v and k != TYPE:  # a class name, not text
                key = (*place, k)
                pieces = out.get(key)
                if pieces is None:
                    out[key] = [(chunk, (*where, k), v)]
                else:
                    pieces.append((chunk, (*where, k), v))
        elif t is dict or t is list:
            at = _position(v, k) if type(k) is int and type(value) is list else k
            _strings(v, (*place, at), (*where, k), chunk, out)


def _position(element: Any, i: int) -> Key:
    """Where a list element stands: by its own ``index`` when it has one (a choice)."""
    if type(element) is dict:
        data = element.get(DATA, element) if TYPE in element else element
        if type(data) is dict and type(data.get("index")) is int:
            return ("index", data["index"])
    return i


def _edits(text: str, rules: Rules) -> list[tuple[list[str], list[Edit]]]:
    """The passes over ``text``, in the walk's order (built-in shapes, then each rule): each
    pass's kinds and edits, on the text as the passes before left it."""
    steps: list[tuple[list[str], list[Edit]]] = []

    def step(kinds: list[str], edits: list[Edit]) -> None:
        nonlocal text
        if edits:
            steps.append((kinds, edits))
            text = _replaced(text, edits)

    spans = find_spans(text)
    step([kind for kind, _, _ in spans], [(s, e, PLACEHOLDER) for _, s, e in spans])
    for pattern in rules.patterns:
        edits = [(m.start(), m.end(), PLACEHOLDER) for m in pattern.finditer(text)]
        step(["scrub_rule"] * len(edits), edits)
    for function in rules.functions:
        new = rules.call(function, text)
        if new != text:  # one edit: from the first changed character to the last
            head = _common_prefix(text, new)
            tail = _common_prefix(text[head:][::-1], new[head:][::-1])
            step(["scrub_rule"], [(head, len(text) - tail, new[head : len(new) - tail])])
    return steps


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _replaced(text: str, edits: list[Edit]) -> str:
    out, last = [], 0
    for start, end, new in edits:
        out += [text[last:start], new]
        last = end
    out.append(text[last:])
    return "".join(out)


def _cut(texts: list[str], edits: list[Edit]) -> list[str]:
    """``texts`` with ``edits`` (on their joined text) made in the pieces they touch: a
    replacement goes where its edit starts, what it covers leaves every piece it spans."""
    starts, at = [], 0
    for text in texts:
        starts.append(at)
        at += len(text)
    ops: list[list[Edit]] = [[] for _ in texts]
    for start, end, new in edits:
        i = max(0, bisect.bisect_right(starts, start) - 1)
        while texts[i] == "" and i + 1 < len(texts) and starts[i + 1] == start:
            i += 1  # an emptied piece holds nothing to start in
        ops[i].append((start - starts[i], min(end, starts[i] + len(texts[i])) - starts[i], new))
        j = i + 1
        while j < len(texts) and starts[j] < end:
            ops[j].append((0, min(end - starts[j], len(texts[j])), ""))
            j += 1
    return [_replaced(text, op) if op else text for text, op in zip(texts, ops, strict=True)]


def _put(value: Any, changes: dict[Any, Any]) -> Any:
    """``value`` with the strings at ``changes`` (a tree of paths) replaced, copied along
    the way: the input is never changed."""
    out = dict(value) if type(value) is dict else list(value)
    for key, change in changes.items():
        out[key] = change if type(change) is str else _put(value[key], change)
    return out


def _where(where: tuple[Any, ...]) -> str:
    return "".join(f"[{k}]" if type(k) is int else f".{k}" for k in where)


def scrub_chunks(
    chunks: list[Any], rules: Rules, found: list[Finding] | None = None, path: str = ""
) -> list[Any]:
    """A stream's chunks (already through the walk) with the secrets split across them cut
    out; what was cut is appended to ``found`` (``path[first..last].place``, kind)."""
    if len(chunks) < 2:
        return chunks
    places: dict[tuple[Key, ...], list[Piece]] = {}
    for n, chunk in enumerate(chunks):
        if type(chunk) is str:
            if chunk:
                places.setdefault((), []).append((n, (), chunk))
        elif type(chunk) is dict or type(chunk) is list:
            _strings(chunk, (), (), n, places)
    changes: dict[int, Any] = {}  # per chunk: its new string, or a tree of changes
    for pieces in places.values():
        if len(pieces) < 2:
            continue
        texts = [text for _, _, text in pieces]
        first = texts[0]
        if all(text == first for text in texts):
            continue
        joined = "".join(texts)
        if len(joined) < SHORTEST and not rules:
            continue
        steps = _edits(joined, rules)
        if not steps:
            continue
        for kinds, edits in steps:
            if found is not None:
                for kind, (start, end, _) in zip(kinds, edits, strict=True):
                    found.append((_found_at(path, pieces, texts, start, end), kind))
            texts = _cut(texts, edits)
            joined = "".join(texts)
        for (chunk, where, old), new in zip(pieces, texts, strict=True):
            if new != old and not where:  # the chunk is the string
                changes[chunk] = new
            elif new != old:
                node = changes.setdefault(chunk, {})
                for key in where[:-1]:
                    node = node.setdefault(key, {})
                node[where[-1]] = new
    if not changes:
        return chunks
    out = list(chunks)
    for n, change in changes.items():
        out[n] = change if type(change) is str else _put(chunks[n], change)
    return out


def _found_at(path: str, pieces: list[Piece], texts: list[str], start: int, end: int) -> str:
    """``path[first..last].place``: the chunks an edit spans, and the place in them."""
    spanned, at = [], 0
    for (chunk, _, _), text in zip(pieces, texts, strict=True):
        if at < end and start < at + len(text):
            spanned.append(chunk)
        at += len(text)
    first, last = (spanned[0], spanned[-1]) if spanned else (pieces[0][0], pieces[-1][0])
    return f"{path}[{first}..{last}]{_where(pieces[0][1])}"
