"""The detector: token shapes and URL credentials in one string (or bytes), found or replaced.

A ``str.find`` per anchor character (:mod:`apirec.gate.tokens`) finds whether to look, and
then, per anchor, a pattern that matches only where a whole prefix stands (``k`` in
``Token``, not in ``book``) finds where: only there are the shapes anchored on it tried, so
a string with none of them costs a few memchr scans. Found: token shapes, URL userinfo (at
``@``) and secret query values (at ``=``); what may stand before a token is in
:mod:`apirec.gate.boundaries`. The key side's pre-check (:func:`might_hold_token`), run on
every call replayed or recorded, gives the verdict of the same search over a call's packed
bytes without the fences, so it never misses what the exact search finds in one of the
strings packed there (bytes: as binary data, a token bounded by its string's length).
"""

from __future__ import annotations

import re

from apirec.gate.boundaries import escaped_boundary, length_bounds
from apirec.gate.prefixes import holds_a_prefix
from apirec.gate.tokens import SHAPES, Shape
from apirec.gate.urls import query_value_at, secret_name_before, userinfo_spans

PLACEHOLDER = "<redacted>"
PLACEHOLDER_BYTES = b"<redacted>"

Span = tuple[str, int, int]  # (kind, start, end) of what is replaced


def _tables() -> dict[str, tuple[int, dict[str, list[Shape]], dict[str, list[Shape]]]]:
    """Per anchor character: the shortest string holding a shape anchored on it, and its
    shapes by the character just before the anchor (or just after, for shapes that start
    with it): one or two dict lookups decide whether a shape is worth trying there."""
    tables: dict[str, tuple[int, dict[str, list[Shape]], dict[str, list[Shape]]]] = {}
    for shape in SHAPES:
        shortest, before, after = tables.get(shape.anchor, (1 << 30, {}, {}))
        shortest = min(shortest, shape.shortest)
        for prefix in shape.prefixes:
            if shape.offset:
                before.setdefault(prefix[shape.offset - 1], []).append(shape)
            else:
                after.setdefault(prefix[1], []).append(shape)
        tables[shape.anchor] = (shortest, before, after)
    return tables


_TABLES = _tables()
_ANCHORS = tuple((char, table[0]) for char, table in _TABLES.items())

SHORTEST = 6  # "?sig=x", "a://b@": no shorter string holds anything to find


def _match(shape: Shape, text: str, start: int, end: int) -> Span | None:
    m = shape.pattern.match(text, start, end)
    if m is None:
        return None
    begin = m.end(shape.keep) if shape.keep else start
    if shape.check is not None and not shape.check(text[begin : m.end()]):
        return None
    return shape.kind, begin, m.end()


def _shape_at(text: str, at: int, fenced: bool, binary: bool = False) -> Span | None:
    _, before, after = _TABLES[text[at]]
    shapes = before.get(text[at - 1]) if at else None
    starting = after.get(text[at + 1 : at + 2])
    if starting is not None:
        shapes = starting if shapes is None else shapes + starting
    if shapes is None:
        return None
    n = len(text)
    for shape in shapes:
        start = at - shape.offset
        if start < 0 or not text.startswith(shape.prefixes, start):
            continue
        if not (
            fenced
            and start
            and text[start - 1] in shape.fence
            and not escaped_boundary(text, start, shape.fence)
        ):
            span = _match(shape, text, start, n)
            if span is not None:
                return span
        if binary:  # a string after its length: the token ends where the string does
            for end in length_bounds(text, start):
                span = _match(shape, text, start, end)
                if span is not None:
                    return span
    return None


def find_spans(text: str, *, fenced: bool = True, binary: bool = False) -> list[Span]:
    """What would be replaced in ``text``, in order and not overlapping (``fenced=False``:
    shapes also inside longer words, for the pre-check; ``binary``: ``text`` is bytes read
    one character per byte, where a string's length byte may stand before a token)."""
    if len(text) < SHORTEST:
        return []
    found: list[Span] = []
    n = len(text)
    find = text.find
    # one compiled search first: most text holds no shape's prefix (see _scan)
    anchors = _FINDERS if not (binary or text.isascii()) or holds_a_prefix(text) else ()
    for char, shortest, search in anchors:
        if n < shortest:
            continue
        at = find(char)  # memchr: an absent anchor costs next to nothing
        if at < 0:
            continue
        # only where a whole prefix stands around the anchor (``k`` in ``Token``): a common
        # letter (the ``b`` of ``basic``) is not looked at in every word that holds it
        m = search(text, at)
        while m is not None:
            span = _shape_at(text, m.start(), fenced, binary)
            if span is not None:
                found.append(span)
            m = search(text, m.start() + 1)
    if "@" in text:
        found.extend(("url_credentials", *info) for info in userinfo_spans(text))
    at = find("=")
    while at >= 0:
        query = query_value_at(text, at)
        if query is not None:
            found.append(("url_query_secret", query[1], query[2]))
        at = find("=", at + 1)
    if len(found) < 2:
        return found
    found.sort(key=lambda s: (s[1], -s[2]))
    spans = [found[0]]
    for span in found[1:]:  # a shape inside another (a key in a URL's value): the outer one
        if span[1] >= spans[-1][2]:
            spans.append(span)
    return spans


def _prefix_finders() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Per anchor character, a pattern that matches it only where a prefix of one of its
    shapes stands around it (``k`` only in ``Token``): the search runs in C, and Python sees
    only the places where :func:`_shape_at` may find a shape. Per offset of the anchor in
    its prefixes: what stands before it (one fixed-width lookbehind) and after it (a
    superset of the prefixes when they pair differently: ``_shape_at`` decides); first, one
    character class of the characters just before (or after) the anchor in any prefix,
    which rejects most places at once."""
    places: dict[str, dict[int, tuple[set[str], set[str]]]] = {}
    for shape in SHAPES:
        for prefix in shape.prefixes:
            at = shape.offset
            behind, after = places.setdefault(shape.anchor, {}).setdefault(at, (set(), set()))
            behind.add(prefix[: at + 1])
            after.add(prefix[at + 1 :])
    finders = []
    for anchor, by_offset in places.items():
        parts = []
        inside = [(at, b, a) for at, (b, a) in sorted(by_offset.items()) if at]
        if inside:  # the anchor inside its prefixes: what stands before it first
            just_before = "".join(sorted({p[-2] for _, b, _ in inside for p in b}))
            branches = [
                f"(?<={'|'.join(sorted(map(re.escape, b)))})"
                + ("" if "" in a else f"(?={'|'.join(sorted(map(re.escape, a)))})")
                for _, b, a in inside
            ]
            check = f"(?<=[{re.escape(just_before)}]{re.escape(anchor)})"
            parts.append(check + "(?:" + "|".join(branches) + ")")
        if 0 in by_offset:  # prefixes that start with the anchor: what follows it
            rests = sorted(by_offset[0][1])
            if "" in rests:  # a prefix of the anchor alone: every place is worth a look
                parts.append("")
            else:
                just_after = "".join(sorted({rest[0] for rest in rests}))
                check = f"(?=[{re.escape(just_after)}])"
                parts.append(check + f"(?={'|'.join(map(re.escape, rests))})")
        finders.append((anchor, re.compile(re.escape(anchor) + "(?:" + "|".join(parts) + ")")))
    return tuple(finders)


_SEARCHES = tuple((char, finder.search) for char, finder in _prefix_finders())
_FINDERS = tuple((char, shortest, dict(_SEARCHES)[char]) for char, shortest in _ANCHORS)
_QUERY_NAME_END = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.%-")


def might_hold_token(packed: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether a string packed in ``packed[start:end]`` (msgpack bytes) may hold a token or a
    URL credential: false positives only cost a structural scrub, and there are no misses.
    A scan of the bytes (one character per byte, no fences) finds the places worth a look:
    a whole prefix around an anchor (:func:`_prefix_finders`, after a ``memchr``), a secret
    query name before ``=``, ``://`` and ``@``. Where it judges such a place no token, the
    strings packed there decide (:func:`_strings_hold_token`): bytes are not the strings
    (a UTF-8 space or digit is no ASCII one; what follows a string in the bytes is not its
    end). Text with no such place (most prompts, in any language) costs the scan alone."""
    data = packed[start:end]
    found, near = _scan(data.decode("latin-1"), one_per_byte=True)  # in C
    if found or not near:
        return found
    return _strings_hold_token(data)


def _scan(text: str, one_per_byte: bool = False) -> tuple[bool, bool]:
    """``(found, near)``: whether the unfenced exact search finds something in ``text``, and
    whether ``text`` has a place where it might (what :func:`might_hold_token` rechecks).
    ``one_per_byte``: ``text`` is bytes read one character per byte (no surrogates in it)."""
    near = False
    find = text.find
    # One compiled search for every prefix first (a shape starts with one, so a text with
    # none cannot hold one): the passes below, one per anchor, cost ~1 µs per 3 KB each.
    searches = _SEARCHES
    if (one_per_byte or text.isascii()) and not holds_a_prefix(text):
        searches = ()
    for char, search in searches:
        at = find(char)  # memchr: an absent anchor costs next to nothing
        if at >= 0:
            m = search(text, at)  # cheaper than finditer: most texts have no match at all
            while m is not None:
                near = True
                if _shape_at(text, m.start(), False) is not None:
                    return True, True
                m = search(text, m.start() + 1)
    if len(text) < SHORTEST:
        return False, near
    if "@" in text and ("://" in text or ":\\/\\/" in text):
        near = True
        if userinfo_spans(text):
            return True, True
    at = find("=")
    while at >= 0:
        if at and text[at - 1] in _QUERY_NAME_END and secret_name_before(text, at):
            near = True
            if query_value_at(text, at) is not None:
                return True, True
        at = find("=", at + 1)
    return False, near


def _strings_hold_token(data: bytes) -> bool:
    """The exact search on the strings themselves: on ``data`` read as UTF-8 (a name, text),
    and on every string (and bytes) in it when it is one packed value."""
    if not data.isascii() and _scan(data.decode("utf-8", "surrogateescape"))[0]:
        return True  # ASCII reads the same either way: the byte scan has judged it
    import msgpack  # here: `apirec ls` reads the gate's names and loads no msgpack

    try:
        value = msgpack.unpackb(
            data, raw=False, strict_map_key=False, unicode_errors="surrogateescape"
        )
    except (ValueError, TypeError, msgpack.UnpackException):  # not one packed value
        return False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if find_spans(item, fenced=False):
                return True
        elif isinstance(item, bytes):  # scrubbed as binary: a token bounded by its length
            if find_spans(item.decode("latin-1"), fenced=False, binary=True):
                return True
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
    return False


def replace_spans(text: str, spans: list[Span]) -> str:
    out, last = [], 0
    for _, start, end in spans:
        out += [text[last:start], PLACEHOLDER]
        last = end
    out.append(text[last:])
    return "".join(out)


def scrub_text(text: str, kinds: list[str] | None = None) -> str:
    """``text`` with every token and URL credential replaced by ``<redacted>``; the kinds
    replaced are appended to ``kinds`` when given."""
    spans = find_spans(text)
    if not spans:
        return text
    if kinds is not None:
        kinds.extend(kind for kind, _, _ in spans)
    return replace_spans(text, spans)


def scrub_bytes(data: bytes, kinds: list[str] | None = None) -> bytes:
    """:func:`scrub_text` for bytes (a binary body, a raw HTTP answer): the same shapes,
    matched on the bytes read one character per byte, replaced by ``b"<redacted>"``."""
    text = data.decode("latin-1")
    spans = find_spans(text, binary=True)
    if not spans:
        return data
    if kinds is not None:
        kinds.extend(kind for kind, _, _ in spans)
    return replace_spans(text, spans).encode("latin-1")
