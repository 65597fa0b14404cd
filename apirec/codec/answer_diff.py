"""Two stored answers to one call compared: structure first, then content (compare mode).

Both sides are ``response`` objects in their stored (encoded) form: a value's ``body``, a
stream's chunks, or a recorded exception. Structure is what code reading the answer depends on:
its kind (a value, a stream, an error), the types of its values (an envelope's ``__type__``
included) and the fields each holds. Content is the rest: the values, and for text how similar
it is (``difflib``'s ratio). A structural difference is one that breaks code written against the
stored answer; a content difference is expected of a live service (ids, timestamps, wording).

Shapes are compared, not positions: the items of a list (a stream's chunks, a message's content
blocks) are grouped by their kind (envelope type and ``type``/``object`` field) and each group's
fields merged, so a longer answer or one more chunk is content, while a kind of chunk or block
that appears or disappears is structure. ``null`` against a value is content (providers fill
optional fields some calls and not others), and so is an int against a float (JSON numbers).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from apirec.codec.envelope import DATA, TYPE

STRUCTURE = "structure"
CONTENT = "content"
# fields whose strings are the text of an answer, joined across chunks for its similarity
TEXT_FIELDS = frozenset({"content", "text", "arguments", "partial_json", "response"})
# the stream's own bookkeeping, not part of what the service said
_NOT_COMPARED = frozenset({"stream_kind", "generator", "truncated_reason"})
# what differs on every call of a live service, at any depth: HTTP headers (dates, request ids,
# rate-limit counters) and the answer's own identity (openai's ``chatcmpl-...`` id and
# ``created``, anthropic's ``msg_...``, a tool call's id, google's ``response_id`` and
# ``create_time``, ollama's ``created_at``): their shape is compared, their content is not.
# ``system_fingerprint`` is not here: it names the backend's configuration, not the call.
_VOLATILE = frozenset({"headers", "id", "created", "created_at", "response_id", "create_time"})
_KIND_FIELDS = ("type", "object", "event")
_MAX_CONTENT = 20  # content differences listed per answer (the rest counted)
_MAX_TEXT = 20_000  # characters of text compared by ratio (beyond: quick_ratio)


@dataclass(frozen=True, slots=True)
class Difference:
    """One difference at ``path`` (``choices[*].message.content``; "" for the answer)."""

    level: str  # STRUCTURE or CONTENT
    kind: str  # "field added", "field removed", "changed type", "new error", ...
    path: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "kind": self.kind, "path": self.path, "detail": self.detail}


@dataclass
class Comparison:
    """What differs between a stored answer and the live one; empty: the same."""

    differences: list[Difference] = field(default_factory=list)
    similarity: float | None = None  # of the answers' text, when they have any
    more_content: int = 0  # content differences beyond those listed

    @property
    def structural(self) -> bool:
        return any(d.level == STRUCTURE for d in self.differences)

    @property
    def content(self) -> bool:
        return self.more_content > 0 or any(d.level == CONTENT for d in self.differences)

    def add(self, level: str, kind: str, path: str, detail: str) -> None:
        if level == CONTENT and sum(d.level == CONTENT for d in self.differences) >= _MAX_CONTENT:
            self.more_content += 1
            return
        self.differences.append(Difference(level, kind, path, detail))


def compare_answers(stored: dict[str, Any], live: dict[str, Any]) -> Comparison:
    """How ``live`` (a response as it would be stored) differs from ``stored``."""
    out = Comparison()
    stored_kind, live_kind = _answer_kind(stored), _answer_kind(live)
    if stored_kind != live_kind:
        if live_kind == "error":
            out.add(STRUCTURE, "new error", "", f"{_error_name(live)} where {stored_kind} was")
        elif stored_kind == "error":
            out.add(STRUCTURE, "error gone", "", f"{live_kind} where {_error_name(stored)} was")
        else:
            out.add(STRUCTURE, "changed kind", "", f"{live_kind}, was {stored_kind}")
        return out
    if stored_kind == "error":
        _compare_errors(stored, live, out)
        return out
    if stored_kind == "stream":
        _compare_stream(stored, live, out)
    elif (stored.get("body") is None) != (live.get("body") is None):
        # null is content for an optional field, not for the whole answer: None now returned
        # where a value was (or the reverse) breaks the code that reads it
        was, now = _type_of(stored.get("body")), _type_of(live.get("body"))
        out.add(STRUCTURE, "changed type", "", f"{now}, was {was}")
    else:
        _diff_shapes(_shape(stored.get("body")), _shape(live.get("body")), "", out)
        _diff_content(stored.get("body"), live.get("body"), "", out)
    stored_text, live_text = _text(stored.get("body")), _text(live.get("body"))
    if stored_text or live_text:
        out.similarity = round(similarity(stored_text, live_text), 3)
    return out


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0 to 1 (``difflib.SequenceMatcher.ratio``)."""
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b)
    if len(a) + len(b) > 2 * _MAX_TEXT:  # ratio() is quadratic at worst
        return matcher.quick_ratio()
    return matcher.ratio()


def _answer_kind(response: dict[str, Any]) -> str:
    if response.get("is_streaming"):
        return "stream"
    return "error" if response.get("is_exception") else "a value"


def _error_name(response: dict[str, Any]) -> str:
    data = response.get("exception_data") or {}
    name = str(data.get("type", "an error")).rsplit(".", 1)[-1]
    status = _status(response)
    return f"{name} ({status})" if status is not None else name


def _status(response: dict[str, Any]) -> Any:
    attributes = (response.get("exception_data") or {}).get("attributes") or {}
    return attributes.get("status_code", attributes.get("status"))


def _compare_errors(stored: dict[str, Any], live: dict[str, Any], out: Comparison) -> None:
    stored_data, live_data = stored.get("exception_data") or {}, live.get("exception_data") or {}
    if stored_data.get("type") != live_data.get("type"):
        out.add(
            STRUCTURE,
            "changed type",
            "error",
            f"{live_data.get('type')}, was {stored_data.get('type')}",
        )
    if _status(stored) != _status(live):
        out.add(STRUCTURE, "changed status", "error", f"{_status(live)}, was {_status(stored)}")
    _diff_shapes(
        _shape(stored_data.get("attributes")), _shape(live_data.get("attributes")), "error", out
    )
    before, after = str(stored.get("exception_message")), str(live.get("exception_message"))
    if before != after:
        ratio = similarity(before, after)
        out.add(CONTENT, "changed text", "error.message", f"{ratio:.0%} similar")
        out.similarity = round(ratio, 3)


def _compare_stream(stored: dict[str, Any], live: dict[str, Any], out: Comparison) -> None:
    chunks, now = stored.get("body") or [], live.get("body") or []
    _diff_shapes(_shape(chunks), _shape(now), "chunks", out)
    if len(chunks) != len(now):
        out.add(CONTENT, "chunk count", "chunks", f"{len(now)} chunks, was {len(chunks)}")
    if stored.get("is_exception") != live.get("is_exception"):
        ended = "an error" if live.get("is_exception") else "its end"
        was = _error_name(stored) if stored.get("is_exception") else "its end"
        out.add(STRUCTURE, "stream end", "", f"the stream now ends with {ended}, was {was}")
    elif stored.get("is_exception"):
        _compare_errors(stored, live, out)
    elif chunks and now:
        _diff_end(chunks, now[-1], out)
    if bool(stored.get("truncated")) != bool(live.get("truncated")):
        out.add(CONTENT, "truncated", "", f"truncated now: {bool(live.get('truncated'))}")
    if _steady(chunks) != _steady(now) and _text(chunks) == _text(now):
        out.add(CONTENT, "changed values", "chunks", "the chunks differ, their text is the same")
    elif _text(chunks) != _text(now):
        out.add(CONTENT, "changed text", "chunks", "the joined text differs")


def _diff_end(chunks: list[Any], live: Any, out: Comparison) -> None:
    """How the stream ends: the values only its last chunk holds (a finish reason, ``done``,
    the usage) or a last chunk of its own kind (a stop event) are what code waiting for the
    whole answer reads. When the live last chunk lacks them (null, or gone), the stream now
    ends early: structure, though each such field alone is null in the other chunks. (A value
    every chunk holds, null in the live ones, stays the optional field it is: content.)"""
    stored = chunks[-1]
    before, after = _item_kind(stored), _item_kind(live)
    if before != after:
        out.add(STRUCTURE, "stream end", "chunks[-1]", f"the last chunk is {after}, was {before}")
        return
    earlier = Shape()
    for chunk in chunks[:-1]:
        if _item_kind(chunk) == before:
            _shape(chunk, earlier)
    last = _shape(stored)
    ending = dict(_lost_values(last, earlier if earlier.types else None, "chunks[-1]"))
    for path, kinds in _lost_values(last, _shape(live), "chunks[-1]"):
        if path in ending:
            out.add(STRUCTURE, "stream end", path, f"null now, was {kinds}: the stream ends early")


def _lost_values(stored: Shape, live: Shape | None, path: str) -> Iterator[tuple[str, str]]:
    """The places where ``stored`` holds a value and ``live`` holds none (null, or absent)."""
    if live is None or not live.types - {"null"}:
        if stored.types - {"null"}:
            yield path, " or ".join(sorted(stored.types - {"null"}))
        return
    for name, inner in stored.fields.items():
        yield from _lost_values(inner, live.fields.get(name), f"{path}.{name}")
    for kind, inner in stored.items.items():
        if kind in live.items:
            yield from _lost_values(inner, live.items[kind], f"{path}[*]")


# -- structure ------------------------------------------------------------------------------


@dataclass
class Shape:
    """The types seen at one place, the fields of its objects and the kinds of its items."""

    types: set[str] = field(default_factory=set)
    fields: dict[str, Shape] = field(default_factory=dict)
    items: dict[str, Shape] = field(default_factory=dict)


def _type_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value[TYPE]) if TYPE in value and DATA in value else "object"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else type(value).__name__


def _fields(value: Any) -> dict[str, Any] | None:
    """The fields of an object: an envelope's data (when it is an object), or the dict."""
    if isinstance(value, dict) and TYPE in value and DATA in value:
        data = value[DATA]
        return data if isinstance(data, dict) else None
    return value if isinstance(value, dict) else None


def _item_kind(value: Any) -> str:
    kind = _type_of(value)
    data = _fields(value)
    if data is not None:
        for name in _KIND_FIELDS:
            tag = data.get(name)
            if isinstance(tag, str):
                return f"{kind} {name}={tag}"
    return kind


def _shape(value: Any, into: Shape | None = None, depth: int = 0) -> Shape:
    shape = Shape() if into is None else into
    shape.types.add(_type_of(value))
    if depth > 60:
        return shape
    data = _fields(value)
    if data is not None:
        for name, inner in data.items():
            _shape(inner, shape.fields.setdefault(name, Shape()), depth + 1)
    if isinstance(value, dict) and TYPE in value and DATA in value and data is None:
        _shape(value[DATA], shape.fields.setdefault(DATA, Shape()), depth + 1)
    if isinstance(value, list):
        for item in value:
            _shape(item, shape.items.setdefault(_item_kind(item), Shape()), depth + 1)
    return shape


def _diff_shapes(stored: Shape, live: Shape, path: str, out: Comparison) -> None:
    before, after = stored.types - {"null"}, live.types - {"null"}
    if before and after and before != after:
        was, now = " or ".join(sorted(before)), " or ".join(sorted(after))
        out.add(STRUCTURE, "changed type", path, f"{now}, was {was}")
        return
    if not before or not after:
        return  # null on one side: nothing to compare the fields with (content tells)
    for name in sorted(set(stored.fields) | set(live.fields)):
        where = f"{path}.{name}" if path else name
        if name not in live.fields:
            kinds = " or ".join(sorted(stored.fields[name].types))
            out.add(STRUCTURE, "field removed", where, f"was {kinds}")
        elif name not in stored.fields:
            kinds = " or ".join(sorted(live.fields[name].types))
            out.add(STRUCTURE, "field added", where, kinds)
        else:
            _diff_shapes(stored.fields[name], live.fields[name], where, out)
    where = f"{path}[*]"
    for kind in sorted(set(stored.items) | set(live.items)):
        if kind == "null":
            continue
        if kind not in live.items:
            out.add(STRUCTURE, "item kind removed", where, f"no {kind} any more")
        elif kind not in stored.items:
            out.add(STRUCTURE, "item kind added", where, kind)
        else:
            _diff_shapes(stored.items[kind], live.items[kind], where, out)


# -- content --------------------------------------------------------------------------------


def _diff_content(stored: Any, live: Any, path: str, out: Comparison, depth: int = 0) -> None:
    if stored == live:
        return
    if depth == 0 and _steady(stored) == _steady(live):
        return
    a, b = _fields(stored), _fields(live)
    if depth < 60 and a is not None and b is not None and _type_of(stored) == _type_of(live):
        for name in sorted((set(a) & set(b)) - _VOLATILE):
            _diff_content(a[name], b[name], f"{path}.{name}" if path else name, out, depth + 1)
        return
    if depth < 60 and isinstance(stored, list) and isinstance(live, list):
        if len(stored) != len(live):
            out.add(CONTENT, "item count", path, f"{len(live)} items, was {len(stored)}")
        for n, (x, y) in enumerate(zip(stored, live, strict=False)):
            _diff_content(x, y, f"{path}[{n}]", out, depth + 1)
        return
    if isinstance(stored, str) and isinstance(live, str):
        ratio = similarity(stored, live)
        out.add(CONTENT, "changed text", path, f"{ratio:.0%} similar")
    elif (stored is None) != (live is None):
        out.add(CONTENT, "null", path, "null now" if live is None else f"{_type_of(live)} now")
    elif _type_of(stored) == _type_of(live):
        out.add(CONTENT, "changed value", path, f"{_short(live)}, was {_short(stored)}")


def _steady(value: Any, depth: int = 0) -> Any:
    """``value`` without its volatile parts (HTTP headers, ids, creation times)."""
    if depth > 60:
        return value
    if isinstance(value, list):
        return [_steady(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {k: _steady(v, depth + 1) for k, v in value.items() if k not in _VOLATILE}
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _text(value: Any) -> str:
    """The text of an answer: the strings of its text fields, in order, joined."""
    return "".join(_texts(value, None, 0))


def _texts(value: Any, name: str | None, depth: int) -> Iterator[str]:
    if depth > 60:
        return
    if isinstance(value, str):
        if name in TEXT_FIELDS:
            yield value
        return
    if isinstance(value, list):
        for item in value:
            yield from _texts(item, name, depth + 1)
        return
    data = _fields(value)
    if data is not None:
        for inner_name, inner in data.items():
            if inner_name not in _NOT_COMPARED:
                yield from _texts(inner, inner_name, depth + 1)
